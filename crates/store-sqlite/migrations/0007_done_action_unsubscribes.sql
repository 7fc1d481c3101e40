-- A webhook action's unsubscribe leaves the ledger once done (its attempt stays in the trigger
-- history): remove those that earlier versions kept, one row per action execution ever run,
-- which every start-up and workflow save read. A trigger's subscriptions stay, whatever state.
DELETE FROM subscriptions
WHERE state = 'Removed' AND json_extract(unsubscribe, '$.request') IS NOT NULL;
