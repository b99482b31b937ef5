-- Answering-machine detection per attempt: who answered (human, machine, no_speech, decision_timeout, tone), kept so
-- the attempt's end and the request's final event can carry it when the call ends after the detection.
CREATE TABLE dispatch.answered_by (
    request_id     text        NOT NULL,
    attempt_no     integer     NOT NULL,
    answered_by    text        NOT NULL,
    -- The carrier's event that decided it, e.g. amd_machine_detected.
    provider_event text,
    detected_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, attempt_no),
    FOREIGN KEY (request_id, attempt_no) REFERENCES dispatch.attempts (request_id, attempt_no) ON DELETE CASCADE
);
