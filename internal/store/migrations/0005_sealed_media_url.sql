-- A transcript's full media URL sealed with the server key-encryption key and
-- bound to its account and transcript (base64 of the sealed value), set when
-- the URL carries userinfo, a query or a fragment. media_url then holds the
-- URL with those masked, which is all that is echoed; the pipeline fetches
-- with the sealed one. Empty for other URLs and for transcripts made by
-- earlier versions, which fetch media_url as it is.
ALTER TABLE transcripts ADD COLUMN media_url_sealed TEXT NOT NULL DEFAULT '';
