-- Whether the operator lets a Service's transcripts go to the language model
-- (serve --llm-url) in plain text. Switched only by the operator (convoseal
-- services llm), never through the API. A Service sealed with a customer key
-- starts with it off; one sealed with the server key, whose content the
-- server can read anyway, starts with it on, as Services behaved before.
ALTER TABLE services ADD COLUMN language_model BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE services SET language_model = TRUE WHERE encryption_credential_sid IS NULL;
