-- convoseal schema, version 1. Portable SQL: runs on SQLite and PostgreSQL.
-- Times are TEXT in UTC, "2006-01-02T15:04:05.000000Z", so they sort as text.
CREATE TABLE accounts (
    sid             TEXT PRIMARY KEY,
    friendly_name   TEXT NOT NULL,
    auth_token_hash TEXT NOT NULL,
    date_created    TEXT NOT NULL,
    date_updated    TEXT NOT NULL
);

CREATE TABLE public_keys (
    sid           TEXT PRIMARY KEY,
    account_sid   TEXT NOT NULL REFERENCES accounts (sid),
    friendly_name TEXT NOT NULL,
    pem           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    date_created  TEXT NOT NULL,
    date_updated  TEXT NOT NULL
);
CREATE INDEX public_keys_account ON public_keys (account_sid, date_created, sid);

CREATE TABLE services (
    sid                       TEXT PRIMARY KEY,
    account_sid               TEXT NOT NULL REFERENCES accounts (sid),
    unique_name               TEXT NOT NULL,
    friendly_name             TEXT NOT NULL,
    language_code             TEXT NOT NULL,
    auto_transcribe           BOOLEAN NOT NULL,
    auto_redaction            BOOLEAN NOT NULL,
    media_redaction           BOOLEAN NOT NULL,
    data_logging              BOOLEAN NOT NULL,
    webhook_url               TEXT NOT NULL,
    webhook_http_method       TEXT NOT NULL,
    encryption_credential_sid TEXT REFERENCES public_keys (sid),
    version                   INTEGER NOT NULL,
    date_created              TEXT NOT NULL,
    date_updated              TEXT NOT NULL,
    UNIQUE (account_sid, unique_name)
);
CREATE INDEX services_account ON services (account_sid, date_created, sid);

CREATE TABLE operators (
    sid           TEXT PRIMARY KEY,
    account_sid   TEXT, -- NULL for pre-built operators
    friendly_name TEXT NOT NULL,
    description   TEXT NOT NULL,
    author        TEXT NOT NULL,
    operator_type TEXT NOT NULL,
    version       INTEGER NOT NULL,
    availability  TEXT NOT NULL,
    config        TEXT NOT NULL,
    date_created  TEXT NOT NULL,
    date_updated  TEXT NOT NULL
);
CREATE INDEX operators_account ON operators (account_sid, date_created, sid);

CREATE TABLE service_operators (
    service_sid  TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    operator_sid TEXT NOT NULL REFERENCES operators (sid),
    date_created TEXT NOT NULL,
    PRIMARY KEY (service_sid, operator_sid)
);

CREATE TABLE transcripts (
    sid                       TEXT PRIMARY KEY,
    account_sid               TEXT NOT NULL REFERENCES accounts (sid),
    service_sid               TEXT NOT NULL REFERENCES services (sid),
    status                    TEXT NOT NULL,
    channel                   TEXT NOT NULL,
    media_url                 TEXT NOT NULL,
    source_sid                TEXT NOT NULL,
    data_logging              BOOLEAN NOT NULL,
    language_code             TEXT NOT NULL,
    customer_key              TEXT NOT NULL,
    media_start_time          TEXT,
    duration                  INTEGER NOT NULL,
    redaction                 BOOLEAN NOT NULL,
    encryption_credential_sid TEXT,
    failure_reason            TEXT NOT NULL,
    date_created              TEXT NOT NULL,
    date_updated              TEXT NOT NULL
);
CREATE INDEX transcripts_account ON transcripts (account_sid, date_created, sid);
CREATE INDEX transcripts_service ON transcripts (service_sid);

CREATE TABLE artifacts (
    transcript_sid TEXT NOT NULL REFERENCES transcripts (sid) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    operator_sid   TEXT NOT NULL, -- '' for sentences
    redacted       BOOLEAN NOT NULL,
    blob_key       TEXT NOT NULL,
    size           BIGINT NOT NULL,
    date_created   TEXT NOT NULL,
    PRIMARY KEY (transcript_sid, kind, operator_sid, redacted)
);
