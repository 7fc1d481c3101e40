-- The unsubscribe worker leases the ledger entries it calls, like runs and effects.
ALTER TABLE subscriptions ADD COLUMN lease_owner TEXT;
ALTER TABLE subscriptions ADD COLUMN lease_until INTEGER;
