package pipeline

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/store"
)

const (
	// BlobSweepGrace is how long the objects of a transcript that does not
	// exist are kept: a transcript being created by an earlier version
	// stores its sealed source before its row commits.
	BlobSweepGrace = 10 * time.Minute
	// BlobSweepInterval is how often each worker process runs the sweep
	// (on PostgreSQL one process at a time).
	BlobSweepInterval = time.Hour
	// maxSweptPerRun bounds the transcripts one sweep deletes the objects
	// of; the next sweep goes on.
	maxSweptPerRun = 1000
	// blobSweepLock is the PostgreSQL advisory lock (two int4 keys) that
	// one sweeping process holds; the first key differs from the liveness
	// locks'.
	blobSweepLockSpace int32 = 0x73776570 // "swep"
	blobSweepLockKey   int32 = 1
)

// sweepBatch is how many transcripts' existence one query checks (a
// variable so that a test can make batches small).
var sweepBatch = 500

// errSweepFull stops a walk that has found maxSweptPerRun orphans.
var errSweepFull = errors.New("sweep: enough orphans for one run")

// objectGroup is the objects of one transcript in one area of the store:
// its own prefix or its data-logging prefix.
type objectGroup struct {
	prefix, sid string
	newest      time.Time
}

// transcriptGroup returns the prefix holding key and the transcript it
// belongs to, if key lies under a transcript's prefix or data-logging
// prefix; ok is false for any other key, which the sweep leaves alone.
func transcriptGroup(key string) (prefix, sid string, ok bool) {
	area := ""
	if rest, dl := strings.CutPrefix(key, "datalogging/"); dl {
		area, key = "datalogging/", rest
	}
	segs := strings.SplitN(key, "/", 3)
	if len(segs) != 3 || !convoseal.ValidSID(convoseal.PrefixAccount, segs[0]) || !convoseal.ValidSID(convoseal.PrefixTranscript, segs[1]) {
		return "", "", false
	}
	return area + segs[0] + "/" + segs[1] + "/", segs[1], true
}

// SweepBlobs deletes the objects of transcripts that do not exist and whose
// newest object was written before olderThan: what a deletion could not
// remove (the blob store failed after the rows were gone) and what a job
// interrupted after writing artifacts of a deleted transcript left. Objects
// under a transcript's prefix (artifacts, a sealed source of an earlier
// version) and its data-logging prefix are covered; any other key is left
// alone. It returns how many prefixes it deleted, at most maxSweptPerRun.
//
// It walks the whole store once. Running it in several processes at once is
// safe: deleting what is already deleted does nothing.
func (p *Pipeline) SweepBlobs(ctx context.Context, olderThan time.Time) (int, error) {
	var (
		cur     objectGroup
		batch   []objectGroup
		orphans []objectGroup
	)
	check := func() error {
		if len(batch) == 0 {
			return nil
		}
		sids := make([]string, len(batch))
		for i, g := range batch {
			sids[i] = g.sid
		}
		exist, err := p.DB.ExistingTranscripts(ctx, sids)
		if err != nil {
			return fmt.Errorf("blob sweep: %w", err)
		}
		for _, g := range batch {
			if !exist[g.sid] && g.newest.Before(olderThan) {
				orphans = append(orphans, g)
			}
		}
		batch = batch[:0]
		if len(orphans) >= maxSweptPerRun {
			return errSweepFull
		}
		return nil
	}
	flush := func() error {
		if cur.prefix == "" {
			return nil
		}
		batch = append(batch, cur)
		cur = objectGroup{}
		if len(batch) >= sweepBatch {
			return check()
		}
		return nil
	}
	err := p.Blobs.Walk(ctx, "", func(o blob.ObjectInfo) error {
		prefix, sid, ok := transcriptGroup(o.Key)
		if !ok {
			return nil
		}
		if prefix != cur.prefix {
			if err := flush(); err != nil {
				return err
			}
			cur = objectGroup{prefix: prefix, sid: sid}
		}
		if o.Modified.After(cur.newest) {
			cur.newest = o.Modified
		}
		return nil
	})
	if err == nil {
		if err = flush(); err == nil {
			err = check()
		}
	}
	if err != nil && !errors.Is(err, errSweepFull) {
		return 0, err
	}
	orphans = orphans[:min(len(orphans), maxSweptPerRun)]
	deleted := 0
	for _, g := range orphans {
		if err := p.Blobs.DeletePrefix(ctx, g.prefix); err != nil {
			return deleted, fmt.Errorf("blob sweep: %w", err)
		}
		deleted++
		p.Log.Info("deleted the objects of a transcript that no longer exists", "transcript_sid", g.sid, "prefix", g.prefix)
	}
	return deleted, nil
}

// SweepBlobsEvery runs SweepBlobs every interval (the first time after a
// random part of it, so that processes started together spread out) until
// ctx ends. On PostgreSQL a process sweeps only while it holds an advisory
// lock, so one process at a time walks the store; the others skip that
// round.
func (p *Pipeline) SweepBlobsEvery(ctx context.Context, interval time.Duration) {
	wait := rand.N(interval)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = interval
		n, err := p.sweepBlobsLocked(ctx)
		if err != nil && ctx.Err() == nil {
			p.Log.Warn("blob sweep", "err", err)
		} else if n > 0 {
			p.Log.Info("blob sweep", "transcripts_swept", n)
		}
	}
}

// sweepBlobsLocked runs SweepBlobs, on PostgreSQL under the sweep's advisory
// lock (skipping the run if another process holds it).
func (p *Pipeline) sweepBlobsLocked(ctx context.Context) (int, error) {
	olderThan := time.Now().Add(-BlobSweepGrace)
	if p.DB.Dialect() != store.DialectPostgres {
		return p.SweepBlobs(ctx, olderThan)
	}
	conn, err := p.DB.Write.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("blob sweep lock: %w", err)
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, blobSweepLockSpace, blobSweepLockKey).Scan(&locked); err != nil {
		return 0, fmt.Errorf("blob sweep lock: %w", err)
	}
	if !locked {
		return 0, nil
	}
	defer func() {
		// Unlock even if ctx ended: returning the connection to the pool
		// keeps its session, and the lock with it. If unlocking fails,
		// drop the connection, which ends the session.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1, $2)`, blobSweepLockSpace, blobSweepLockKey); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return p.SweepBlobs(ctx, olderThan)
}
