package pipeline

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// livenessLockSpace is the first key of the two-key PostgreSQL advisory
// locks that say a worker process is alive ("conv"); the second key is
// hashtext(client ID).
const livenessLockSpace int32 = 0x636f6e76

// rescueInterval is how often a worker looks for jobs of dead workers.
var rescueInterval = 5 * time.Second

// liveness lets the worker processes sharing a PostgreSQL database tell a
// dead peer's jobs from a busy one's. Each worker holds, for its lifetime, a
// session advisory lock keyed by its River client ID on a connection of its
// own; PostgreSQL releases the lock when that session ends, which for a
// killed process is at once (the kernel closes its sockets). A job left
// running by a client whose lock can be taken belongs to a dead process and
// is made available again, without waiting for River's rescuer (twice the job
// timeout). Client IDs are unique per process run, so a dead owner never
// comes back.
//
// If a live worker loses its database session (a network partition, a
// database restart), its jobs may be rescued while it still runs them; the
// pipeline's writes are idempotent, so the cost is duplicated work.
type liveness struct {
	db   *sql.DB
	id   string
	log  *slog.Logger
	conn *sql.Conn

	mu     sync.Mutex
	stop   chan struct{}
	wg     sync.WaitGroup
	closed bool
}

// newClientID returns a River client ID unique to this process run.
func newClientID() string {
	host, _ := os.Hostname()
	if len(host) > 40 {
		host = host[:40]
	}
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("convoseal-%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// start takes this worker's lock, rescues what dead workers left running,
// and keeps doing so every rescueInterval until close.
func (l *liveness) start(ctx context.Context) error {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("worker liveness lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, livenessLockSpace, l.id); err != nil {
		conn.Close()
		return fmt.Errorf("worker liveness lock: %w", err)
	}
	l.conn = conn
	if _, err := l.rescue(ctx); err != nil {
		return err
	}
	l.stop = make(chan struct{})
	l.wg.Go(l.loop)
	return nil
}

func (l *liveness) loop() {
	t := time.NewTicker(rescueInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), rescueInterval)
		// The lock's session must still be there: if it broke, take the
		// lock again on a new one before judging others.
		if err := l.conn.PingContext(ctx); err != nil {
			l.log.Error("worker liveness lock lost; taking it again", "error", err)
			l.reacquire(ctx)
		}
		if _, err := l.rescue(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("rescuing jobs of dead workers", "error", err)
		}
		cancel()
	}
}

func (l *liveness) reacquire(ctx context.Context) {
	l.conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the broken session from the pool
	l.conn.Close()
	conn, err := l.db.Conn(ctx)
	if err == nil {
		if _, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, livenessLockSpace, l.id); err == nil {
			l.conn = conn
			return
		}
		conn.Close()
	}
	l.log.Error("worker liveness lock", "error", err)
}

// rescue makes the jobs left running by dead workers available again (or
// discards those out of attempts, as River's rescuer would) and returns how
// many it moved.
func (l *liveness) rescue(ctx context.Context) (int64, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT DISTINCT attempted_by[array_length(attempted_by, 1)] FROM river_job
		WHERE state = 'running' AND array_length(attempted_by, 1) > 0`)
	if err != nil {
		return 0, fmt.Errorf("rescuing jobs: %w", err)
	}
	var owners []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return 0, fmt.Errorf("rescuing jobs: %w", err)
		}
		if o != l.id {
			owners = append(owners, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("rescuing jobs: %w", err)
	}
	var total int64
	for _, owner := range owners {
		n, err := l.rescueOwner(ctx, owner)
		if err != nil {
			return total, err
		}
		if n > 0 {
			l.log.Warn("rescued jobs of a dead worker", "worker", owner, "jobs", n)
		}
		total += n
	}
	return total, nil
}

// rescueOwner moves owner's running jobs if owner's lock is free, that is,
// if owner is dead.
func (l *liveness) rescueOwner(ctx context.Context, owner string) (int64, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("rescuing jobs: %w", err)
	}
	defer tx.Rollback()
	var free bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`, livenessLockSpace, owner).Scan(&free); err != nil {
		return 0, fmt.Errorf("rescuing jobs: %w", err)
	}
	if !free {
		return 0, nil // alive
	}
	res, err := tx.ExecContext(ctx, `UPDATE river_job SET
			state = CASE WHEN attempt >= max_attempts THEN 'discarded'::river_job_state ELSE 'available'::river_job_state END,
			finalized_at = CASE WHEN attempt >= max_attempts THEN now() END,
			scheduled_at = now(),
			errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
				'error', 'the worker process running the job died', 'trace', ''))
		WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1`, owner)
	if err != nil {
		return 0, fmt.Errorf("rescuing jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, tx.Commit()
}

// close stops rescuing and releases the lock (ending its session).
func (l *liveness) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.stop == nil {
		return
	}
	l.closed = true
	close(l.stop)
	l.wg.Wait()
	l.conn.Raw(func(any) error { return driver.ErrBadConn }) // ends the session: releases the lock
	l.conn.Close()
}
