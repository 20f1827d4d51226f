package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/store"
)

// DeleteTranscript deletes one of an account's transcripts: its rows first,
// then its objects (artifacts, a sealed source left by an earlier version,
// data-logging copies). In that order no object can outlive the deletion:
// a job still working on the transcript finds it gone when it tries to
// complete it and removes what it wrote itself (see [Pipeline.Process]).
//
// It returns convoseal.ErrNotFound if the account has no such transcript.
// Once the rows are gone the deletion has happened: a failure to remove the
// objects is logged, not returned, and [Pipeline.SweepBlobs] removes them
// later.
func DeleteTranscript(ctx context.Context, db *store.DB, blobs blob.Store, log *slog.Logger, accountSID, sid string) error {
	if err := db.DeleteTranscript(ctx, accountSID, sid); err != nil {
		return err
	}
	// The rows are gone: finish even if the client hangs up now.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := deleteObjects(ctx, blobs, accountSID, sid); err != nil {
		log.WarnContext(ctx, "deleting the objects of a deleted transcript; the blob sweep will remove them", "transcript_sid", sid, "account_sid", accountSID, "err", err)
	}
	return nil
}

// removeIfDeleted removes what an unfinished attempt wrote for t when t has
// been deleted meanwhile: the retry of its job will find it gone and know
// nothing of its objects (a deletion that listed them before this attempt
// wrote them could not remove them either). A crash at this point leaves
// them to the blob sweep.
func (p *Pipeline) removeIfDeleted(t *convoseal.Transcript) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.DB.TranscriptAccount(ctx, t.SID); !errors.Is(err, convoseal.ErrNotFound) {
		return
	}
	if err := deleteObjects(ctx, p.Blobs, t.AccountSID, t.SID); err != nil {
		p.Log.Warn("removing the objects of a transcript deleted while it was processed; the blob sweep will remove them", "transcript_sid", t.SID, "account_sid", t.AccountSID, "err", err)
	}
}

// deleteObjects removes every object of a transcript: its artifacts (and a
// sealed source an earlier version left) and its data-logging copies.
func deleteObjects(ctx context.Context, blobs blob.Store, accountSID, sid string) error {
	return errors.Join(blobs.DeletePrefix(ctx, TranscriptPrefix(accountSID, sid)),
		blobs.DeletePrefix(ctx, DataLoggingPrefix(accountSID, sid)))
}
