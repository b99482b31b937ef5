-- The states api-service owes to Kafka (decision 0129): one row per change of a compacted topic's state whose publish
-- outcome may be unknown, naming the changed object. Written and committed before the change's records are handed to
-- the producer, deleted by the change's own transaction once Kafka acknowledged them; a row left over (the change
-- failed after the hand-off, or its process stopped) is swept by every instance, which publishes the object's
-- committed state again under the object's lock and deletes the row once Kafka stored it.
CREATE TABLE api.owed_states (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- campaign, webhook, subscription or settings
    kind       text        NOT NULL,
    account_id text        COLLATE "C" NOT NULL,
    -- the campaign's name, the webhook's or subscription's id, the account's id for its settings
    object_id  text        COLLATE "C" NOT NULL,
    owed_since timestamptz NOT NULL DEFAULT now(),
    -- when a sweeper may next take the row: the grace left to the change, a claim's lease, or a retry's backoff
    due_at     timestamptz NOT NULL,
    -- restatements begun by sweepers
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text
);

CREATE INDEX owed_states_due_idx ON api.owed_states (due_at);
