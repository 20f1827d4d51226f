-- The transcripts waiting for or in processing, by account: the job queue
-- counts an account's backlog when it enqueues a transcript (fair queueing:
-- a large backlog gets a lower job priority), without scanning the
-- account's finished transcripts.
CREATE INDEX transcripts_pending ON transcripts (account_sid) WHERE status IN ('queued', 'in-progress');
