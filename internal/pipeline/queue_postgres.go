package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// riverMigrationLock is the PostgreSQL advisory-lock key that serializes
// River's migrations between processes (rivermigrate takes no lock itself).
const riverMigrationLock int64 = 0x636f6e766f7269 // "convori"

// listenPollInterval is how often a queue with a LISTEN connection also polls
// for jobs (a fallback; tests lengthen it to prove the notifications work).
var listenPollInterval = time.Second

// NewPostgresQueue migrates River's tables in db (a PostgreSQL pool opened
// through pgx's database/sql driver, as store.OpenPostgres makes: db.Write)
// and returns a queue whose workers run p.
//
// River runs on database/sql (riverdatabasesql), so EnqueueTx and NotifyTx
// insert jobs on the store's own *sql.Tx, committing with the transcript.
// Many processes may share the database: cfg.Solo is ignored (a job left
// running by a dead process is rescued after RescueStuckJobsAfter, longer
// than any job's timeout, never reset at start). When the queue works jobs, a
// one-connection pgx pool made from db's connection settings LISTENs for
// River's insert notifications, so a job committed by any process is picked up
// at once; polling (every second) remains the fallback.
func NewPostgresQueue(ctx context.Context, db *sql.DB, p *Pipeline, cfg QueueConfig, log *slog.Logger) (*Queue, error) {
	rc, err := clientConfig(p, cfg, log)
	if err != nil {
		return nil, err
	}
	return newPostgresQueue(ctx, db, rc, log)
}

func newPostgresQueue(ctx context.Context, db *sql.DB, rc *river.Config, log *slog.Logger) (*Queue, error) {
	if err := migrateRiverPostgres(ctx, db, log); err != nil {
		return nil, err
	}
	driver := riverdatabasesql.New(db)
	var listener *pgxpool.Pool
	if rc.Workers != nil {
		var err error
		if listener, err = listenerPool(ctx, db); err != nil {
			quiet(log).Warn("job queue: no LISTEN connection; polling for new jobs", "error", err)
		} else {
			driver = riverdatabasesql.NewWithPgxListener(db, listener)
		}
	}
	var alive *liveness
	if rc.Workers != nil {
		rc.ID = newClientID()
		alive = &liveness{db: db, id: rc.ID, log: quiet(log)}
	}
	if listener != nil {
		rc.FetchPollInterval = listenPollInterval
	} else {
		rc.FetchPollInterval = 200 * time.Millisecond
	}
	q, err := newQueue(driver, rc, false, db)
	if err != nil {
		if listener != nil {
			listener.Close()
		}
		return nil, err
	}
	q.postgres = true
	if listener != nil {
		q.onStop = listener.Close
	}
	q.alive = alive
	return q, nil
}

// migrateRiverPostgres applies River's migrations while holding a session
// advisory lock on one of db's connections, so processes starting together
// migrate one after the other (the others then find nothing to do).
func migrateRiverPostgres(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	lockConn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	defer lockConn.Close()
	if _, err := lockConn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, riverMigrationLock); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	defer lockConn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, riverMigrationLock)
	migrator, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: migrationLog(log)})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// listenerPool returns a pgx pool of at most one connection made from the
// same connection string as db's connections (host, credentials,
// search_path…). The string is parsed afresh: a live connection's config
// carries that connection's notification handler.
func listenerPool(ctx context.Context, db *sql.DB) (*pgxpool.Pool, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var connString string
	err = c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("the pool is not pgx's database/sql driver")
		}
		connString = sc.Conn().Config().ConnString()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if connString == "" {
		return nil, errors.New("the pool's connection string is unknown")
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns, cfg.MinConns = 1, 0
	return pgxpool.NewWithConfig(ctx, cfg)
}
