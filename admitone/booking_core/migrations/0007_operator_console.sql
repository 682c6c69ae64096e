-- The operator console (gateway/operator): single-use form tokens, and the audit log read by show.

-- A console form token (CSRF) is spent once: its hash is recorded here by the change it allows.
CREATE TABLE operator_form_tokens (
    token_hash bytea PRIMARY KEY,
    spent_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operator_form_tokens_spent_idx ON operator_form_tokens (spent_at);

-- The audit page lists one show's operator changes, newest first; fans' lock rows are not read.
CREATE INDEX audit_log_operator_idx ON audit_log (at DESC)
    WHERE entity IN ('waiting_room', 'show', 'visitor');
