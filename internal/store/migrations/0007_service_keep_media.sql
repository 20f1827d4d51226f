-- Whether an audio transcript of the Service keeps its original recording
-- (sealed like every artifact, under …/media/unredacted). Switched only by
-- the operator (convoseal services keep-media), never through the API; off
-- by default, so that only the redacted recording (MediaRedaction) is kept.
ALTER TABLE services ADD COLUMN keep_media BOOLEAN NOT NULL DEFAULT FALSE;
