-- The unsubscribe worker leases the ledger entries it calls, like runs and effects, so two
-- nodes never make the same unsubscribe call at once.
ALTER TABLE subscriptions ADD COLUMN lease_owner TEXT;
ALTER TABLE subscriptions ADD COLUMN lease_until BIGINT;
