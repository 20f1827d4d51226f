package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/convoseal/convoseal"
)

const serviceCols = `sid, account_sid, unique_name, friendly_name, language_code, auto_transcribe, auto_redaction, media_redaction,
	data_logging, webhook_url, webhook_http_method, encryption_credential_sid, version, date_created, date_updated, language_model,
	keep_media`

// queryer is a conn or a *txn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) row
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface{ Scan(...any) error }

// collect scans every row of a query's result with scan (the query's error,
// if any, is returned as is).
func collect[T any](rows *sql.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanString scans a one-column row of text.
func scanString(r rowScanner) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

func scanService(s rowScanner) (*convoseal.Service, error) {
	var v convoseal.Service
	var cred sql.NullString
	var created, updated string
	if err := s.Scan(&v.SID, &v.AccountSID, &v.UniqueName, &v.FriendlyName, &v.LanguageCode, &v.AutoTranscribe, &v.AutoRedaction,
		&v.MediaRedaction, &v.DataLogging, &v.WebhookURL, &v.WebhookHTTPMethod, &cred, &v.Version, &created, &updated, &v.LanguageModel,
		&v.KeepMedia); err != nil {
		return nil, err
	}
	v.EncryptionCredentialSID = cred.String
	v.DateCreated, v.DateUpdated = parseTime(created), parseTime(updated)
	return &v, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkCredential makes sure sid (if any) is one of the account's keys.
func checkCredential(ctx context.Context, q queryer, accountSID, sid string) error {
	if sid == "" {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM public_keys WHERE account_sid = ? AND sid = ?`, accountSID, sid).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return convoseal.Invalidf("EncryptionCredentialSid %s is not one of this account's public keys (create one at /v1/Credentials/PublicKeys)", sid)
	}
	return nil
}

// CreateService inserts a Service; UniqueName is unique per account. It
// sets s.LanguageModel: on for a Service sealed with the server key (the
// server can read its content anyway), off for one with a customer key.
func (db *DB) CreateService(ctx context.Context, s *convoseal.Service) error {
	now := db.now()
	s.DateCreated, s.DateUpdated, s.Version = now, now, 1
	s.LanguageModel = s.EncryptionCredentialSID == ""
	return db.tx(ctx, func(tx *txn) error {
		if err := checkCredential(ctx, tx, s.AccountSID, s.EncryptionCredentialSID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO services (`+serviceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.SID, s.AccountSID, s.UniqueName, s.FriendlyName, s.LanguageCode, s.AutoTranscribe, s.AutoRedaction, s.MediaRedaction,
			s.DataLogging, s.WebhookURL, s.WebhookHTTPMethod, nullable(s.EncryptionCredentialSID), s.Version, fmtTime(now), fmtTime(now),
			s.LanguageModel, s.KeepMedia)
		if isUniqueViolation(err) {
			return convoseal.Conflictf("a Service with UniqueName %q already exists", s.UniqueName)
		}
		if isForeignKeyViolation(err) {
			return credentialGone(s.EncryptionCredentialSID)
		}
		return err
	})
}

// credentialGone is the error for a key deleted while a Service was being
// saved with it (the foreign key caught what checkCredential could not).
func credentialGone(sid string) error {
	return convoseal.Invalidf("EncryptionCredentialSid %s is not one of this account's public keys (create one at /v1/Credentials/PublicKeys)", sid)
}

// GetService returns one of an account's Services with its attached operators.
func (db *DB) GetService(ctx context.Context, accountSID, sid string) (*convoseal.Service, error) {
	return getService(ctx, db.r, accountSID, sid)
}

func getService(ctx context.Context, q queryer, accountSID, sid string) (*convoseal.Service, error) {
	s, err := scanService(q.QueryRowContext(ctx, `SELECT `+serviceCols+` FROM services WHERE account_sid = ? AND sid = ?`, accountSID, sid))
	if err != nil {
		return nil, notFound(err)
	}
	if s.OperatorSIDs, err = attachedOperators(ctx, q, sid); err != nil {
		return nil, err
	}
	return s, nil
}

func attachedOperators(ctx context.Context, q queryer, serviceSID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT operator_sid FROM service_operators WHERE service_sid = ? ORDER BY date_created, operator_sid`, serviceSID)
	out, err := collect(rows, err, scanString)
	if out == nil && err == nil {
		out = []string{} // rendered as [], not null
	}
	return out, err
}

// ListServices returns a page of an account's Services, newest first.
func (db *DB) ListServices(ctx context.Context, accountSID string, p Page) ([]*convoseal.Service, error) {
	cond, args := p.where("")
	rows, err := db.r.QueryContext(ctx, `SELECT `+serviceCols+` FROM services WHERE account_sid = ?`+cond+
		p.order()+` LIMIT ?`, append(append([]any{accountSID}, args...), p.Size)...)
	out, err := collect(rows, err, scanService)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	// The page's attachments in one query, not one per Service.
	bySID := make(map[string]*convoseal.Service, len(out))
	sids := make([]any, len(out))
	for i, s := range out {
		s.OperatorSIDs = []string{}
		bySID[s.SID], sids[i] = s, s.SID
	}
	rows, err = db.r.QueryContext(ctx, `SELECT service_sid, operator_sid FROM service_operators WHERE service_sid IN (?`+
		strings.Repeat(", ?", len(sids)-1)+`) ORDER BY date_created, operator_sid`, sids...)
	pairs, err := collect(rows, err, func(r rowScanner) ([2]string, error) {
		var p [2]string
		err := r.Scan(&p[0], &p[1])
		return p, err
	})
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		s := bySID[p[0]]
		s.OperatorSIDs = append(s.OperatorSIDs, p[1])
	}
	return out, nil
}

// UpdateService applies fn to the stored Service and saves it, bumping its
// version. With ifMatch > 0 the update happens only at that version. A
// Service that gets a new customer key has its language model switched off:
// the operator's consent was not given for that content.
func (db *DB) UpdateService(ctx context.Context, accountSID, sid string, ifMatch int, fn func(*convoseal.Service) error) (*convoseal.Service, error) {
	var out *convoseal.Service
	err := db.tx(ctx, func(tx *txn) error {
		// On PostgreSQL, lock the row so concurrent updates apply one after
		// the other (If-Match and the version bump stay exact).
		if err := tx.lockRows(ctx, "FOR UPDATE", "services", "account_sid = ? AND sid = ?", accountSID, sid); err != nil {
			return err
		}
		s, err := getService(ctx, tx, accountSID, sid)
		if err != nil {
			return err
		}
		if ifMatch > 0 && s.Version != ifMatch {
			return &convoseal.Error{Code: convoseal.CodeConflict, Status: 412, Message: fmt.Sprintf("If-Match version %d does not match the Service's version %d", ifMatch, s.Version)}
		}
		oldKey := s.EncryptionCredentialSID
		if err := fn(s); err != nil {
			return err
		}
		if s.EncryptionCredentialSID != "" && s.EncryptionCredentialSID != oldKey {
			s.LanguageModel = false
		}
		if err := checkCredential(ctx, tx, accountSID, s.EncryptionCredentialSID); err != nil {
			return err
		}
		s.Version++
		s.DateUpdated = db.now()
		_, err = tx.ExecContext(ctx, `UPDATE services SET unique_name = ?, friendly_name = ?, language_code = ?, auto_transcribe = ?, auto_redaction = ?,
			media_redaction = ?, data_logging = ?, webhook_url = ?, webhook_http_method = ?, encryption_credential_sid = ?, version = ?, date_updated = ?,
			language_model = ?, keep_media = ? WHERE account_sid = ? AND sid = ?`,
			s.UniqueName, s.FriendlyName, s.LanguageCode, s.AutoTranscribe, s.AutoRedaction, s.MediaRedaction, s.DataLogging,
			s.WebhookURL, s.WebhookHTTPMethod, nullable(s.EncryptionCredentialSID), s.Version, fmtTime(s.DateUpdated), s.LanguageModel,
			s.KeepMedia, accountSID, sid)
		if isUniqueViolation(err) {
			return convoseal.Conflictf("a Service with UniqueName %q already exists", s.UniqueName)
		}
		if isForeignKeyViolation(err) {
			return credentialGone(s.EncryptionCredentialSID)
		}
		out = s
		return err
	})
	return out, err
}

// DeleteService removes a Service that has no transcripts.
func (db *DB) DeleteService(ctx context.Context, accountSID, sid string) error {
	return db.tx(ctx, func(tx *txn) error {
		// On PostgreSQL, lock the Service first: a transcript being created
		// for it (which holds a share lock) commits before the count below.
		if err := tx.lockRows(ctx, "FOR UPDATE", "services", "account_sid = ? AND sid = ?", accountSID, sid); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM transcripts WHERE account_sid = ? AND service_sid = ?`, accountSID, sid).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM services WHERE account_sid = ? AND sid = ?`, accountSID, sid).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return convoseal.ErrNotFound
			}
			return convoseal.Conflictf("the Service still has %d transcript(s); delete them first", n)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM service_operators WHERE service_sid IN (SELECT sid FROM services WHERE account_sid = ? AND sid = ?)`, accountSID, sid); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM services WHERE account_sid = ? AND sid = ?`, accountSID, sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return convoseal.ErrNotFound
		}
		return nil
	})
}

// AttachOperator attaches an operator (pre-built, or one of the account's
// custom operators) to a Service. Attaching twice is not an error.
func (db *DB) AttachOperator(ctx context.Context, accountSID, serviceSID, operatorSID string) error {
	return db.tx(ctx, func(tx *txn) error {
		if _, err := getService(ctx, tx, accountSID, serviceSID); err != nil {
			return err
		}
		if _, err := getOperator(ctx, tx, accountSID, operatorSID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO service_operators (service_sid, operator_sid, date_created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			serviceSID, operatorSID, fmtTime(db.now()))
		if isForeignKeyViolation(err) {
			return convoseal.ErrNotFound // the Service or operator was deleted meanwhile
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // attached already
		}
		return checkOperatorCount(ctx, tx, serviceSID)
	})
}

// MaxServiceOperators is how many operators one Service may have: every
// transcript of the Service runs each of them.
const MaxServiceOperators = 20

// checkOperatorCount refuses (rolling back the attachment just made) a
// Service with more than MaxServiceOperators operators.
func checkOperatorCount(ctx context.Context, tx *txn, serviceSID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM service_operators WHERE service_sid = ?`, serviceSID).Scan(&n); err != nil {
		return err
	}
	if n > MaxServiceOperators {
		return convoseal.Invalidf("Service %s already has %d operators, the most a Service may have; detach one first", serviceSID, MaxServiceOperators)
	}
	return nil
}

// DetachOperator removes an attachment.
func (db *DB) DetachOperator(ctx context.Context, accountSID, serviceSID, operatorSID string) error {
	return db.tx(ctx, func(tx *txn) error {
		if _, err := getService(ctx, tx, accountSID, serviceSID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM service_operators WHERE service_sid = ? AND operator_sid = ?`, serviceSID, operatorSID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return convoseal.ErrNotFound
		}
		return nil
	})
}

// SetDataLogging switches a Service's data logging (an operator action, not
// reachable through the API) and returns the Service.
func (db *DB) SetDataLogging(ctx context.Context, serviceSID string, on bool) (*convoseal.Service, error) {
	var account string
	if err := db.r.QueryRowContext(ctx, `SELECT account_sid FROM services WHERE sid = ?`, serviceSID).Scan(&account); err != nil {
		return nil, notFound(err)
	}
	return db.UpdateService(ctx, account, serviceSID, 0, func(s *convoseal.Service) error {
		s.DataLogging = on
		return nil
	})
}

// DataLoggingServices lists every Service with data logging on, for the
// start-up warning.
func (db *DB) DataLoggingServices(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT sid FROM services WHERE data_logging ORDER BY sid`)
	return collect(rows, err, scanString)
}
