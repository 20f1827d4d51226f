package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/convoseal/convoseal"
)

const transcriptCols = `sid, account_sid, service_sid, status, channel, media_url, source_sid, data_logging, language_code, customer_key,
	media_start_time, duration, redaction, encryption_credential_sid, failure_reason, date_created, date_updated`

func scanTranscript(s interface{ Scan(...any) error }) (*convoseal.Transcript, error) {
	var t convoseal.Transcript
	var channel, created, updated string
	var start, cred sql.NullString
	if err := s.Scan(&t.SID, &t.AccountSID, &t.ServiceSID, &t.Status, &channel, &t.MediaURL, &t.SourceSID, &t.DataLogging, &t.LanguageCode,
		&t.CustomerKey, &start, &t.Duration, &t.Redaction, &cred, &t.FailureReason, &created, &updated); err != nil {
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

// CreateTranscript inserts a queued transcript and, in the same transaction,
// runs enqueue (which inserts its job): both commit or neither does. The
// transcript takes its Service's settings and encryption key at this moment.
func (db *DB) CreateTranscript(ctx context.Context, t *convoseal.Transcript, enqueue func(*sql.Tx) error) error {
	now := db.now()
	t.DateCreated, t.DateUpdated, t.Status = now, now, convoseal.StatusQueued
	return db.tx(ctx, func(tx *txn) error {
		// On PostgreSQL, hold the Service (against a concurrent update or
		// delete) until the transcript that copies its settings commits.
		if err := tx.lockRows(ctx, "FOR SHARE", "services", "account_sid = ? AND sid = ?", t.AccountSID, t.ServiceSID); err != nil {
			return err
		}
		svc, err := getService(ctx, tx, t.AccountSID, t.ServiceSID)
		if err != nil {
			if err == convoseal.ErrNotFound {
				return convoseal.NotFoundf("ServiceSid %s: no such Service", t.ServiceSID)
			}
			return err
		}
		t.EncryptionCredentialSID = svc.EncryptionCredentialSID
		t.DataLogging = svc.DataLogging
		t.Redaction = svc.AutoRedaction
		if t.LanguageCode == "" {
			t.LanguageCode = svc.LanguageCode
		}
		var start any
		if t.MediaStartTime != nil {
			start = fmtTime(*t.MediaStartTime)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO transcripts (`+transcriptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.SID, t.AccountSID, t.ServiceSID, t.Status, string(t.Channel), t.MediaURL, t.SourceSID, t.DataLogging, t.LanguageCode, t.CustomerKey,
			start, t.Duration, t.Redaction, nullable(t.EncryptionCredentialSID), t.FailureReason, fmtTime(now), fmtTime(now))
		if err != nil {
			return err
		}
		return enqueue(tx.Tx)
	})
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
	if f.BeforeDateCreated != nil {
		add("date_created < ?", fmtTime(*f.BeforeDateCreated))
	}
	if f.AfterDateCreated != nil {
		add("date_created > ?", fmtTime(*f.AfterDateCreated))
	}
	cond, cargs := p.where("")
	q += cond + ` ORDER BY date_created DESC, sid DESC LIMIT ?`
	args = append(append(args, cargs...), p.Size)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*convoseal.Transcript
	for rows.Next() {
		t, err := scanTranscript(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// StartTranscript moves a queued (or interrupted in-progress) transcript to
// in-progress. It reports false when the transcript is gone or already
// finished, so a retried job does nothing.
func (db *DB) StartTranscript(ctx context.Context, sid string) (*convoseal.Transcript, bool, error) {
	var t *convoseal.Transcript
	err := db.tx(ctx, func(tx *txn) error {
		// On PostgreSQL, lock the row so the status read below stays current
		// (another process may be completing or failing it).
		if err := tx.lockRows(ctx, "FOR UPDATE", "transcripts", "sid = ?", sid); err != nil {
			return err
		}
		var err error
		t, err = scanTranscript(tx.QueryRowContext(ctx, `SELECT `+transcriptCols+` FROM transcripts WHERE sid = ?`, sid))
		if err != nil {
			return notFound(err)
		}
		if t.Status != convoseal.StatusQueued && t.Status != convoseal.StatusInProgress {
			return nil
		}
		t.Status, t.DateUpdated = convoseal.StatusInProgress, db.now()
		_, err = tx.ExecContext(ctx, `UPDATE transcripts SET status = ?, date_updated = ? WHERE sid = ? AND status IN ('queued', 'in-progress')`,
			t.Status, fmtTime(t.DateUpdated), sid)
		return err
	})
	if err == convoseal.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return t, t.Status == convoseal.StatusInProgress, nil
}

// CompleteTranscript records the artifacts and marks the transcript completed,
// atomically. Artifacts replace earlier rows of the same identity (a retried
// job writes the same keys). It reports false if the transcript was deleted
// meanwhile, so the caller can remove what it wrote.
//
// then, if not nil, runs in the same transaction after the update (to enqueue
// the webhook job), so the event is queued if and only if the status changed.
func (db *DB) CompleteTranscript(ctx context.Context, sid string, duration int, arts []convoseal.Artifact, then func(*sql.Tx) error) (bool, error) {
	ok := false
	err := db.tx(ctx, func(tx *txn) error {
		now := fmtTime(db.now())
		res, err := tx.ExecContext(ctx, `UPDATE transcripts SET status = ?, duration = ?, failure_reason = '', date_updated = ? WHERE sid = ? AND status IN ('queued', 'in-progress')`,
			convoseal.StatusCompleted, duration, now, sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for _, a := range arts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (transcript_sid, kind, operator_sid, redacted, blob_key, size, date_created)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (transcript_sid, kind, operator_sid, redacted) DO UPDATE SET blob_key = excluded.blob_key, size = excluded.size`,
				sid, a.Kind, a.OperatorSID, a.Redacted, a.BlobKey, a.Size, now); err != nil {
				return err
			}
		}
		ok = true
		if then != nil {
			return then(tx.Tx)
		}
		return nil
	})
	return ok, err
}

// FailTranscript marks a transcript failed with a readable reason that must not
// contain customer content; then runs in the same transaction when the status
// changed.
func (db *DB) FailTranscript(ctx context.Context, sid, reason string, then func(*sql.Tx) error) error {
	return db.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE transcripts SET status = ?, failure_reason = ?, date_updated = ? WHERE sid = ? AND status IN ('queued', 'in-progress')`,
			convoseal.StatusFailed, reason, fmtTime(db.now()), sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || then == nil {
			return nil
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

// DeleteTranscript removes one of an account's transcripts and its artifact
// rows (the caller removes the blobs, under the transcript's prefix).
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
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []convoseal.Artifact
	for rows.Next() {
		var a convoseal.Artifact
		var created string
		if err := rows.Scan(&a.TranscriptSID, &a.Kind, &a.OperatorSID, &a.Redacted, &a.BlobKey, &a.Size, &created); err != nil {
			return nil, err
		}
		a.DateCreated = parseTime(created)
		out = append(out, a)
	}
	return out, rows.Err()
}
