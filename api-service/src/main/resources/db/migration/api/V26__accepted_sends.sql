-- A send whose recipients carry no foreign_id is recorded as one row, not one row per call (decision 0086): its calls'
-- ids are the send's id (drawn for the request, or by its Idempotency-Key's claim) with the recipient's index in the
-- last 16 bits, so a call is found from its id alone. The reads show such a call as queued until the events give it
-- a row in api.calls; a send whose calls all have one is deleted.

CREATE TABLE api.accepted_sends (
    id           uuid        PRIMARY KEY,
    account_id   text        COLLATE "C" NOT NULL,
    campaign     text        COLLATE "C",
    caller_id    text        NOT NULL,
    max_attempts integer     NOT NULL,
    created_at   timestamptz NOT NULL,
    -- the callees in E.164, comma-separated: the i-th (from 1) is the recipient at index i - 1's, empty where that
    -- recipient was not queued (one text, not an array: it is written on the send's hot path, and read rarely)
    callees      text        NOT NULL
);

CREATE INDEX accepted_sends_account_created_idx ON api.accepted_sends (account_id, created_at, id);
CREATE INDEX accepted_sends_account_campaign_idx ON api.accepted_sends (account_id, campaign, created_at, id)
    WHERE campaign IS NOT NULL;

-- The callees as an array, NULL where a recipient was not queued.
CREATE FUNCTION api.sent_callees(callees text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT string_to_array(callees, ',', '') $$;

-- The id of the call at position pos (from 1) of sent_callees: the send's id with pos - 1 in its last two bytes, as text.
-- The same derivation as TimeOrderedUuids.ofRecipient; inlined by the planner. Callers compare it under COLLATE "C",
-- as api.calls.id is.
CREATE FUNCTION api.sent_call_id(send uuid, pos bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT encode(overlay(uuid_send(send) PLACING substring(int4send((pos - 1)::int) FROM 3 FOR 2)
                                FROM 15 FOR 2), 'hex')::uuid::text $$;
