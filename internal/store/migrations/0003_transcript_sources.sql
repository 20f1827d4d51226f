-- Inline media (a data: URL) waiting to be processed, sealed with the server
-- key-encryption key: body is the ciphertext, metadata the seal envelope as a
-- JSON object of strings. Never plaintext. A row is transient: it is written
-- in the transaction that creates its transcript and job, and deleted in the
-- one that completes, fails or deletes the transcript.
-- BYTEA is PostgreSQL's binary type; SQLite gives the unknown name NUMERIC
-- affinity, which stores a blob value unchanged.
CREATE TABLE transcript_sources (
    transcript_sid TEXT PRIMARY KEY REFERENCES transcripts (sid) ON DELETE CASCADE,
    body           BYTEA NOT NULL,
    metadata       TEXT NOT NULL
);
