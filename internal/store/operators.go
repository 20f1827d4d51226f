package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/convoseal/convoseal"
)

const operatorCols = `sid, account_sid, friendly_name, description, author, operator_type, version, availability, config, date_created, date_updated`

func scanOperator(s rowScanner) (*convoseal.Operator, error) {
	var o convoseal.Operator
	var account sql.NullString
	var config, created, updated string
	if err := s.Scan(&o.SID, &account, &o.FriendlyName, &o.Description, &o.Author, &o.OperatorType, &o.Version, &o.Availability, &config, &created, &updated); err != nil {
		return nil, err
	}
	o.AccountSID, o.Config = account.String, []byte(config)
	o.DateCreated, o.DateUpdated = parseTime(created), parseTime(updated)
	return &o, nil
}

// UpsertPrebuiltOperator installs or refreshes a pre-built operator (no
// account). Its SID is fixed by the catalog.
func (db *DB) UpsertPrebuiltOperator(ctx context.Context, o *convoseal.Operator) error {
	now := fmtTime(db.now())
	_, err := db.w.ExecContext(ctx, `INSERT INTO operators (`+operatorCols+`) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET friendly_name = excluded.friendly_name, description = excluded.description, author = excluded.author,
		operator_type = excluded.operator_type, version = excluded.version, availability = excluded.availability, config = excluded.config,
		date_updated = CASE WHEN operators.version = excluded.version THEN operators.date_updated ELSE excluded.date_updated END`,
		o.SID, o.FriendlyName, o.Description, o.Author, o.OperatorType, o.Version, o.Availability, string(o.Config), now, now)
	return err
}

// CreateOperator inserts an account's custom operator.
func (db *DB) CreateOperator(ctx context.Context, o *convoseal.Operator) error {
	now := db.now()
	o.DateCreated, o.DateUpdated = now, now
	if o.Version == 0 {
		o.Version = 1
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO operators (`+operatorCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.SID, o.AccountSID, o.FriendlyName, o.Description, o.Author, o.OperatorType, o.Version, o.Availability, string(o.Config), fmtTime(now), fmtTime(now))
	return err
}

// GetOperator returns a pre-built operator or one of the account's custom ones.
func (db *DB) GetOperator(ctx context.Context, accountSID, sid string) (*convoseal.Operator, error) {
	return getOperator(ctx, db.r, accountSID, sid)
}

func getOperator(ctx context.Context, q queryer, accountSID, sid string) (*convoseal.Operator, error) {
	o, err := scanOperator(q.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE sid = ? AND (account_sid IS NULL OR account_sid = ?)`, sid, accountSID))
	return o, notFound(err)
}

// OperatorScope selects which operators a list returns.
type OperatorScope int

// Operator scopes.
const (
	AllOperators OperatorScope = iota
	PrebuiltOperators
	CustomOperators
)

// ListOperators returns a page of the operators the account can see.
func (db *DB) ListOperators(ctx context.Context, accountSID string, scope OperatorScope, availability string, p Page) ([]*convoseal.Operator, error) {
	q := `SELECT ` + operatorCols + ` FROM operators WHERE `
	var args []any
	switch scope {
	case PrebuiltOperators:
		q += `account_sid IS NULL`
	case CustomOperators:
		q += `account_sid = ?`
		args = append(args, accountSID)
	default:
		q += `(account_sid IS NULL OR account_sid = ?)`
		args = append(args, accountSID)
	}
	if availability != "" {
		q += ` AND availability = ?`
		args = append(args, availability)
	}
	cond, cargs := p.where("")
	q += cond + p.order() + ` LIMIT ?`
	rows, err := db.r.QueryContext(ctx, q, append(append(args, cargs...), p.Size)...)
	return collect(rows, err, scanOperator)
}

// UpdateOperator applies fn to one of the account's custom operators and saves
// it as a new version. With ifMatch > 0 only that version is updated.
func (db *DB) UpdateOperator(ctx context.Context, accountSID, sid string, ifMatch int, fn func(*convoseal.Operator) error) (*convoseal.Operator, error) {
	var out *convoseal.Operator
	err := db.tx(ctx, func(tx *txn) error {
		if err := tx.lockRows(ctx, "FOR UPDATE", "operators", "sid = ? AND account_sid = ?", sid, accountSID); err != nil {
			return err
		}
		o, err := scanOperator(tx.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE sid = ? AND account_sid = ?`, sid, accountSID))
		if err != nil {
			return notFound(err)
		}
		if ifMatch > 0 && o.Version != ifMatch {
			return &convoseal.Error{Code: convoseal.CodeConflict, Status: 412, Message: fmt.Sprintf("If-Match version %d does not match the operator's version %d", ifMatch, o.Version)}
		}
		if err := fn(o); err != nil {
			return err
		}
		o.Version++
		o.DateUpdated = db.now()
		_, err = tx.ExecContext(ctx, `UPDATE operators SET friendly_name = ?, description = ?, config = ?, version = ?, date_updated = ? WHERE sid = ? AND account_sid = ?`,
			o.FriendlyName, o.Description, string(o.Config), o.Version, fmtTime(o.DateUpdated), sid, accountSID)
		out = o
		return err
	})
	return out, err
}

// DeleteOperator removes one of the account's custom operators and its
// attachments.
func (db *DB) DeleteOperator(ctx context.Context, accountSID, sid string) error {
	return db.tx(ctx, func(tx *txn) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators WHERE sid = ? AND account_sid = ?`, sid, accountSID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return convoseal.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM service_operators WHERE operator_sid = ?`, sid); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM operators WHERE sid = ? AND account_sid = ?`, sid, accountSID)
		return err
	})
}

// ServiceOperators returns the operators attached to a Service, for the
// pipeline.
func (db *DB) ServiceOperators(ctx context.Context, serviceSID string) ([]*convoseal.Operator, error) {
	rows, err := db.w.QueryContext(ctx, `SELECT o.sid, o.account_sid, o.friendly_name, o.description, o.author, o.operator_type, o.version,
		o.availability, o.config, o.date_created, o.date_updated FROM operators o JOIN service_operators so ON so.operator_sid = o.sid
		WHERE so.service_sid = ? ORDER BY so.date_created, o.sid`, serviceSID)
	return collect(rows, err, scanOperator)
}
