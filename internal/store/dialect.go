package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/convoseal/convoseal"
	"github.com/jackc/pgx/v5/pgconn"
)

// Dialects: the store's SQL is written once, with ? placeholders, and runs on
// both.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqlConn is what *sql.DB and *sql.Tx have in common.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs the store's queries (written with ? placeholders) on a pool or a
// transaction, rewriting the placeholders to $1…$n on PostgreSQL. Every store
// query goes through a conn; nothing else touches the *sql.DB or *sql.Tx
// directly, except River, which writes its own SQL for its own driver.
type conn struct {
	c  sqlConn
	pg bool
}

func (c conn) bind(query string) string {
	if c.pg {
		return rebind(query)
	}
	return query
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.c.ExecContext(ctx, c.bind(query), args...)
	return res, badText(err)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := c.c.QueryContext(ctx, c.bind(query), args...)
	return rows, badText(err)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) row {
	return row{c.c.QueryRowContext(ctx, c.bind(query), args...)}
}

// row is a *sql.Row whose Scan maps PostgreSQL's text errors like conn's
// other methods.
type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error { return badText(r.r.Scan(dest...)) }

// txn is a write transaction: its queries go through conn, and Tx is the
// underlying transaction for the job queue to insert its jobs on.
type txn struct {
	conn
	Tx *sql.Tx
}

// lockRows takes row locks (mode is "FOR UPDATE" or "FOR SHARE") on the rows
// of table that match where, on PostgreSQL, where transactions run
// concurrently at READ COMMITTED. On SQLite it does nothing: transactions
// begin IMMEDIATE and hold the database's one write lock.
func (t *txn) lockRows(ctx context.Context, mode, table, where string, args ...any) error {
	if !t.pg {
		return nil
	}
	rows, err := t.QueryContext(ctx, "SELECT 1 FROM "+table+" WHERE "+where+" "+mode, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// rebind rewrites ? placeholders to PostgreSQL's $1…$n. A ? inside a quoted
// string ('…', E'…', $tag$…$tag$), a quoted identifier ("…") or a comment
// (--…, /*…*/) is left alone.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
		case c == '\'':
			// E'…' allows backslash escapes; '…' only doubled quotes.
			escapes := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i < 2 || !isIdentChar(q[i-2]))
			j := skipQuoted(q, i, '\'', escapes)
			b.WriteString(q[i:j])
			i = j
		case c == '"':
			j := skipQuoted(q, i, '"', false)
			b.WriteString(q[i:j])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q)
			} else {
				j += i
			}
			b.WriteString(q[i:j])
			i = j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := skipBlockComment(q, i)
			b.WriteString(q[i:j])
			i = j
		case c == '$' && (i == 0 || !isIdentChar(q[i-1])):
			j := skipDollarQuoted(q, i)
			b.WriteString(q[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// skipQuoted returns the index just past the quoted text starting at q[i]
// (a doubled quote stands for itself; with escapes, so does \<quote>), or
// len(q) if it is not closed.
func skipQuoted(q string, i int, quote byte, escapes bool) int {
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if escapes {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// skipBlockComment returns the index just past the (possibly nested) comment
// starting at q[i].
func skipBlockComment(q string, i int) int {
	depth := 0
	for j := i; j+1 < len(q); j++ {
		switch {
		case q[j] == '/' && q[j+1] == '*':
			depth++
			j++
		case q[j] == '*' && q[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(q)
}

// skipDollarQuoted returns the index just past a $tag$…$tag$ string starting
// at q[i], or i+1 when q[i] does not open one (e.g. a $1 placeholder).
func skipDollarQuoted(q string, i int) int {
	j := i + 1
	if j < len(q) && q[j] >= '0' && q[j] <= '9' {
		return i + 1 // $n
	}
	for j < len(q) && q[j] != '$' && isIdentChar(q[j]) {
		j++
	}
	if j >= len(q) || q[j] != '$' {
		return i + 1
	}
	tag := q[i : j+1]
	end := strings.Index(q[j+1:], tag)
	if end < 0 {
		return len(q)
	}
	return j + 1 + end + len(tag)
}

// pgCode returns the SQLSTATE of a PostgreSQL error ("" for others).
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	return pgCode(err) == "23505" || strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	return pgCode(err) == "23503" || strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// badText turns PostgreSQL's refusal of text it cannot store (a NUL byte or
// invalid UTF-8, which SQLite keeps) into a 400 rather than a server error.
func badText(err error) error {
	switch pgCode(err) {
	case "22021", "22P05":
		return convoseal.Invalidf("a parameter contains a NUL character or invalid UTF-8")
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return convoseal.ErrNotFound
	}
	return err
}
