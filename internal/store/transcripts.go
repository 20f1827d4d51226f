package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
)

const transcriptCols = `sid, account_sid, service_sid, status, channel, media_url, source_sid, data_logging, language_code, customer_key,
	media_start_time, duration, redaction, encryption_credential_sid, failure_reason, date_created, date_updated, media_url_sealed`

func scanTranscript(s rowScanner) (*convoseal.Transcript, error) {
	var t convoseal.Transcript
	var channel, created, updated string
	var start, cred sql.NullString
	if err := s.Scan(&t.SID, &t.AccountSID, &t.ServiceSID, &t.Status, &channel, &t.MediaURL, &t.SourceSID, &t.DataLogging, &t.LanguageCode,
		&t.CustomerKey, &start, &t.Duration, &t.Redaction, &cred, &t.FailureReason, &created, &updated, &t.MediaURLSealed); err != nil {
		return nil, err
	}
	t.Channel = []byte(channel)
	if start.Valid {
		st := parseTime(start.String)
		t.MediaStartTime = &st
	}
	t.EncryptionCredentialSID = cred.String
	t.DateCreated, t.DateUpdated = parseTime(created), parseTime(updated)
	return &t, nil
}

// SealedSource is a transcript's inline media (a data: URL) sealed with the
// server key-encryption key: the ciphertext and its seal envelope's metadata.
// The store only ever holds this ciphertext, never the media's plaintext. Its
// row is transient: written with the transcript, deleted when the transcript
// completes, fails or is deleted. Its size is bounded by the API's request
// body limit.
type SealedSource struct {
	Body     []byte
	Metadata map[string]string
}

// CreateTranscript inserts a queued transcript, its sealed inline source when
// src is not nil, and, in the same transaction, runs enqueue (which inserts
// its job): all commit or none does. The transcript takes its Service's
// settings and encryption key at this moment.
func (db *DB) CreateTranscript(ctx context.Context, t *convoseal.Transcript, src *SealedSource, enqueue func(*sql.Tx) error) error {
	var srcMeta []byte
	if src != nil {
		var err error
		if srcMeta, err = json.Marshal(src.Metadata); err != nil {
			return fmt.Errorf("sealed source metadata: %w", err)
		}
	}
	now := db.now()
	t.DateCreated, t.DateUpdated, t.Status = now, now, convoseal.StatusQueued
	return db.tx(ctx, func(tx *txn) error {
		// Read the settings the transcript copies in one statement that, on
		// PostgreSQL, also holds the Service (against a concurrent update or
		// delete) until the transcript commits.
		q := `SELECT encryption_credential_sid, data_logging, auto_redaction, language_code FROM services WHERE account_sid = ? AND sid = ?`
		if tx.pg {
			q += ` FOR SHARE`
		}
		var cred sql.NullString
		var language string
		err := tx.QueryRowContext(ctx, q, t.AccountSID, t.ServiceSID).Scan(&cred, &t.DataLogging, &t.Redaction, &language)
		if errors.Is(err, sql.ErrNoRows) {
			return convoseal.NotFoundf("ServiceSid %s: no such Service", t.ServiceSID)
		}
		if err != nil {
			return err
		}
		t.EncryptionCredentialSID = cred.String
		if t.LanguageCode == "" {
			t.LanguageCode = language
		}
		var start any
		if t.MediaStartTime != nil {
			start = fmtTime(*t.MediaStartTime)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO transcripts (`+transcriptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.SID, t.AccountSID, t.ServiceSID, t.Status, string(t.Channel), t.MediaURL, t.SourceSID, t.DataLogging, t.LanguageCode, t.CustomerKey,
			start, t.Duration, t.Redaction, nullable(t.EncryptionCredentialSID), t.FailureReason, fmtTime(now), fmtTime(now), t.MediaURLSealed)
		if err != nil {
			return err
		}
		if src != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO transcript_sources (transcript_sid, body, metadata) VALUES (?, ?, ?)`,
				t.SID, src.Body, string(srcMeta)); err != nil {
				return err
			}
		}
		return enqueue(tx.Tx)
	})
}

// TranscriptSource returns a transcript's sealed inline source, for the
// pipeline; convoseal.ErrNotFound when it has none (its media is a URL, it has
// finished, or its source was stored before sources moved to the database).
func (db *DB) TranscriptSource(ctx context.Context, transcriptSID string) (*SealedSource, error) {
	var src SealedSource
	var meta string
	err := db.r.QueryRowContext(ctx, `SELECT body, metadata FROM transcript_sources WHERE transcript_sid = ?`, transcriptSID).Scan(&src.Body, &meta)
	if err != nil {
		return nil, notFound(err)
	}
	if err := json.Unmarshal([]byte(meta), &src.Metadata); err != nil {
		return nil, fmt.Errorf("sealed source metadata of %s: %w", transcriptSID, err)
	}
	return &src, nil
}

// finishReturning ends the UPDATE that completes or fails a transcript: it
// reports whether the transcript has a sealed source to delete, so a
// transcript without one costs no extra statement.
const finishReturning = ` RETURNING EXISTS (SELECT 1 FROM transcript_sources s WHERE s.transcript_sid = transcripts.sid)`

// finish runs the UPDATE that completes or fails a transcript and, if it
// changed the status, deletes the transcript's sealed source in the same
// transaction. It reports whether the status changed.
func finish(ctx context.Context, tx *txn, sid, update string, args ...any) (bool, error) {
	var hasSource bool
	err := tx.QueryRowContext(ctx, update+finishReturning, args...).Scan(&hasSource)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if hasSource {
		if _, err := tx.ExecContext(ctx, `DELETE FROM transcript_sources WHERE transcript_sid = ?`, sid); err != nil {
			return false, err
		}
	}
	return true, nil
}

// GetTranscript returns one of an account's transcripts.
func (db *DB) GetTranscript(ctx context.Context, accountSID, sid string) (*convoseal.Transcript, error) {
	t, err := scanTranscript(db.r.QueryRowContext(ctx, `SELECT `+transcriptCols+` FROM transcripts WHERE account_sid = ? AND sid = ?`, accountSID, sid))
	return t, notFound(err)
}

// TranscriptForJob returns a transcript by SID alone, for the pipeline (which
// got the SID from its own job, not from a client).
func (db *DB) TranscriptForJob(ctx context.Context, sid string) (*convoseal.Transcript, error) {
	t, err := scanTranscript(db.w.QueryRowContext(ctx, `SELECT `+transcriptCols+` FROM transcripts WHERE sid = ?`, sid))
	return t, notFound(err)
}

// TranscriptFilter narrows a transcript list.
type TranscriptFilter struct {
	ServiceSID, Status, LanguageCode, SourceSID string
	BeforeStartTime, AfterStartTime             *time.Time
	BeforeDateCreated, AfterDateCreated         *time.Time
}

// ListTranscripts returns a page of an account's transcripts, newest first.
func (db *DB) ListTranscripts(ctx context.Context, accountSID string, f TranscriptFilter, p Page) ([]*convoseal.Transcript, error) {
	q := `SELECT ` + transcriptCols + ` FROM transcripts WHERE account_sid = ?`
	args := []any{accountSID}
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.ServiceSID != "" {
		add("service_sid = ?", f.ServiceSID)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.LanguageCode != "" {
		add("language_code = ?", f.LanguageCode)
	}
	if f.SourceSID != "" {
		add("source_sid = ?", f.SourceSID)
	}
	if f.BeforeStartTime != nil {
		add("media_start_time < ?", fmtTime(*f.BeforeStartTime))
	}
	if f.AfterStartTime != nil {
		add("media_start_time > ?", fmtTime(*f.AfterStartTime))
	}
	// date_created is shown to the second, so it is compared to the second:
	// a row is after X when its whole second is, i.e. from X's next second on,
	// and before X when it is earlier than X rounded up to a second.
	if f.BeforeDateCreated != nil {
		add("date_created < ?", fmtTime(ceilSecond(*f.BeforeDateCreated)))
	}
	if f.AfterDateCreated != nil {
		add("date_created >= ?", fmtTime(f.AfterDateCreated.Truncate(time.Second).Add(time.Second)))
	}
	cond, cargs := p.where("")
	q += cond + p.order() + ` LIMIT ?`
	args = append(append(args, cargs...), p.Size)
	rows, err := db.r.QueryContext(ctx, q, args...)
	return collect(rows, err, scanTranscript)
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if s := t.Truncate(time.Second); !s.Equal(t) {
		return s.Add(time.Second)
	}
	return t
}

// StartTranscript moves a queued (or interrupted in-progress) transcript to
// in-progress. It reports false when the transcript is gone or already
// finished, so a retried job does nothing.
func (db *DB) StartTranscript(ctx context.Context, sid string) (*convoseal.Transcript, bool, error) {
	// One statement, one round trip: on PostgreSQL the UPDATE takes the row
	// lock and, if another process is completing or failing the transcript,
	// waits for it and re-checks the status before changing anything.
	now := db.now()
	t, err := scanTranscript(db.w.QueryRowContext(ctx, `UPDATE transcripts SET status = ?, date_updated = ? WHERE sid = ? AND status IN ('queued', 'in-progress')
		RETURNING `+transcriptCols, convoseal.StatusInProgress, fmtTime(now), sid))
	if err == nil {
		t.DateUpdated = now
		return t, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, err
	}
	// Gone, or already finished: the caller gets the finished transcript.
	t, err = scanTranscript(db.w.QueryRowContext(ctx, `SELECT `+transcriptCols+` FROM transcripts WHERE sid = ?`, sid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return t, false, nil
}

// CompleteTranscript records the artifacts, marks the transcript completed and
// deletes its sealed source, atomically. Artifacts replace earlier rows of the same identity (a retried
// job writes the same keys). It reports false if the transcript was deleted
// meanwhile, so the caller can remove what it wrote.
//
// then, if not nil, runs in the same transaction after the update (to enqueue
// the webhook job), so the event is queued if and only if the status changed.
func (db *DB) CompleteTranscript(ctx context.Context, sid string, duration int, arts []convoseal.Artifact, then func(*sql.Tx) error) (bool, error) {
	ok := false
	err := db.tx(ctx, func(tx *txn) error {
		now := fmtTime(db.now())
		changed, err := finish(ctx, tx, sid, `UPDATE transcripts SET status = ?, duration = ?, failure_reason = '', date_updated = ? WHERE sid = ? AND status IN ('queued', 'in-progress')`,
			convoseal.StatusCompleted, duration, now, sid)
		if err != nil || !changed {
			return err
		}
		if err := insertArtifacts(ctx, tx, sid, arts, now); err != nil {
			return err
		}
		ok = true
		if then != nil {
			return then(tx.Tx)
		}
		return nil
	})
	return ok, err
}

// artifactsPerInsert bounds the rows of one multi-row INSERT (7 parameters
// each, far below either database's parameter limit).
const artifactsPerInsert = 100

// insertArtifacts upserts a transcript's artifact rows with one statement per
// artifactsPerInsert rows instead of one per artifact. A later artifact of the
// same identity replaces an earlier one, as row-by-row upserts would (one
// statement may not touch a row twice).
func insertArtifacts(ctx context.Context, tx *txn, sid string, arts []convoseal.Artifact, now string) error {
	type identity struct {
		kind, operator string
		redacted       bool
	}
	last := make(map[identity]int, len(arts))
	for i, a := range arts {
		last[identity{a.Kind, a.OperatorSID, a.Redacted}] = i
	}
	rows := make([]convoseal.Artifact, 0, len(last))
	for i, a := range arts {
		if last[identity{a.Kind, a.OperatorSID, a.Redacted}] == i {
			rows = append(rows, a)
		}
	}
	for len(rows) > 0 {
		n := min(len(rows), artifactsPerInsert)
		var q strings.Builder
		q.WriteString(`INSERT INTO artifacts (transcript_sid, kind, operator_sid, redacted, blob_key, size, date_created) VALUES `)
		args := make([]any, 0, 7*n)
		for i, a := range rows[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, sid, a.Kind, a.OperatorSID, a.Redacted, a.BlobKey, a.Size, now)
		}
		q.WriteString(` ON CONFLICT (transcript_sid, kind, operator_sid, redacted) DO UPDATE SET blob_key = excluded.blob_key, size = excluded.size`)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// FailTranscript marks a transcript failed with a readable reason that must not
// contain customer content and deletes its sealed source; then runs in the
// same transaction when the status changed.
func (db *DB) FailTranscript(ctx context.Context, sid, reason string, then func(*sql.Tx) error) error {
	return db.tx(ctx, func(tx *txn) error {
		changed, err := finish(ctx, tx, sid, `UPDATE transcripts SET status = ?, failure_reason = ?, date_updated = ? WHERE sid = ? AND status IN ('queued', 'in-progress')`,
			convoseal.StatusFailed, reason, fmtTime(db.now()), sid)
		if err != nil || !changed || then == nil {
			return err
		}
		return then(tx.Tx)
	})
}

// WebhookTarget returns a Service's webhook URL and method, read on tx.
func WebhookTarget(ctx context.Context, tx *sql.Tx, serviceSID string) (url, method string, err error) {
	// tx is a bare *sql.Tx of either dialect: $1 is a placeholder on both
	// (modernc's SQLite binds $N to the N-th argument).
	err = tx.QueryRowContext(ctx, `SELECT webhook_url, webhook_http_method FROM services WHERE sid = $1`, serviceSID).Scan(&url, &method)
	return url, method, notFound(badText(err))
}

// DeleteTranscript removes one of an account's transcripts, its artifact rows
// and its sealed source (the caller removes the blobs, under the transcript's
// prefix). The sealed source goes by ON DELETE CASCADE, after the transcript
// row: completing and failing also lock the transcript row before the source
// row, so on PostgreSQL a delete racing them cannot deadlock.
func (db *DB) DeleteTranscript(ctx context.Context, accountSID, sid string) error {
	return db.tx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM artifacts WHERE transcript_sid IN (SELECT sid FROM transcripts WHERE account_sid = ? AND sid = ?)`, accountSID, sid); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM transcripts WHERE account_sid = ? AND sid = ?`, accountSID, sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return convoseal.ErrNotFound
		}
		return nil
	})
}

// ListArtifacts returns a transcript's artifacts (the caller has already
// checked that the transcript is the account's).
func (db *DB) ListArtifacts(ctx context.Context, transcriptSID string) ([]convoseal.Artifact, error) {
	return listArtifacts(ctx, db.r, transcriptSID)
}

func listArtifacts(ctx context.Context, q queryer, transcriptSID string) ([]convoseal.Artifact, error) {
	rows, err := q.QueryContext(ctx, `SELECT transcript_sid, kind, operator_sid, redacted, blob_key, size, date_created FROM artifacts
		WHERE transcript_sid = ? ORDER BY kind, operator_sid, redacted`, transcriptSID)
	return collect(rows, err, func(r rowScanner) (convoseal.Artifact, error) {
		var a convoseal.Artifact
		var created string
		err := r.Scan(&a.TranscriptSID, &a.Kind, &a.OperatorSID, &a.Redacted, &a.BlobKey, &a.Size, &created)
		a.DateCreated = parseTime(created)
		return a, err
	})
}
