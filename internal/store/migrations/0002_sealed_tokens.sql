-- The auth token sealed with the server key-encryption key, so the service can
-- sign webhooks the way Twilio does (HMAC with the account's auth token).
-- Authentication still uses only auth_token_hash.
ALTER TABLE accounts ADD COLUMN auth_token_sealed TEXT NOT NULL DEFAULT '';
