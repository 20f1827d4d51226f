package store

import (
	"context"
	"database/sql"
	"errors"
)

// TranscriptAccount returns the account of a transcript (the job queue's
// fair scheduling), from the read pool; convoseal.ErrNotFound if it is gone.
func (db *DB) TranscriptAccount(ctx context.Context, sid string) (string, error) {
	var account string
	err := db.r.QueryRowContext(ctx, `SELECT account_sid FROM transcripts WHERE sid = ?`, sid).Scan(&account)
	return account, notFound(err)
}

// OtherAccountWaiting reports whether the next transcript jobs River would
// fetch (the first few available, in its order) include one of an account
// other than account. It reads River's job table, from the read pool.
func (db *DB) OtherAccountWaiting(ctx context.Context, account string) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM (SELECT args FROM river_job WHERE state = 'available' AND kind = 'transcribe' AND queue = 'default'
		ORDER BY priority, scheduled_at, id LIMIT 10) AS next
		JOIN transcripts ON transcripts.sid = next.args->>'transcript_sid' WHERE transcripts.account_sid <> ? LIMIT 1`, account).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
