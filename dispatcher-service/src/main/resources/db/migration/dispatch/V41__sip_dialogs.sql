-- The SIP trunk carrier's calls, kept while they run so that a dispatcher that dies does not forget them: whoever
-- takes over (the restarted process or another dispatcher, once the lease lapses) ends each one on the wire (BYE for
-- an answered call, CANCEL for one still ringing) and ends its attempt. A row is deleted when its call ends.
CREATE TABLE dispatch.sip_dialogs (
    call_id       text        PRIMARY KEY,
    request_id    text        NOT NULL,
    attempt_no    integer     NOT NULL,
    -- Where the INVITE went: host:port/transport.
    trunk         text        NOT NULL,
    -- calling (INVITE sent), early (a provisional response came), confirmed (answered and acknowledged).
    state         text        NOT NULL,
    -- What a CANCEL must repeat of the INVITE: its Request-URI and its Via (branch and sent-by).
    invite_uri    text        NOT NULL,
    via_branch    text        NOT NULL,
    via_host      text        NOT NULL,
    via_port      integer     NOT NULL,
    local_uri     text        NOT NULL,
    local_tag     text        NOT NULL,
    remote_uri    text        NOT NULL,
    remote_tag    text,
    -- The trunk's Contact and the route set (one Route address a line): where in-dialog requests go.
    remote_target text,
    route_set     text,
    -- The last CSeq number we used in the dialog (the INVITE's until it is confirmed).
    local_cseq    bigint      NOT NULL,
    answered_at   timestamptz,
    -- The carrier instance that holds the call, and until when; a lapsed lease lets another take it over.
    owner         text        NOT NULL,
    lease_until   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sip_dialogs_by_lease ON dispatch.sip_dialogs (lease_until);
CREATE INDEX sip_dialogs_by_owner ON dispatch.sip_dialogs (owner);
