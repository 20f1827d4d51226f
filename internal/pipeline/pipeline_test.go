package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// sourceWatch is a blob store that records every operation on a sealed
// source's key (SourceKey).
type sourceWatch struct {
	blob.Store
	mu  sync.Mutex
	ops []string
}

func (s *sourceWatch) note(op, key string) {
	if strings.HasSuffix(key, "/source") {
		s.mu.Lock()
		s.ops = append(s.ops, op+" "+key)
		s.mu.Unlock()
	}
}

func (s *sourceWatch) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	s.note("PUT", key)
	return s.Store.Put(ctx, key, body, meta)
}

func (s *sourceWatch) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	s.note("GET", key)
	return s.Store.Get(ctx, key)
}

func (s *sourceWatch) Delete(ctx context.Context, key string) error {
	s.note("DELETE", key)
	return s.Store.Delete(ctx, key)
}

func (s *sourceWatch) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := s.ops
	s.ops = nil
	return ops
}

// TestProcessSealedSource: inline media waits sealed in the database and the
// pipeline reads it there, without touching the blob store for it; the
// transaction that finishes the transcript deletes it. A source an earlier
// version left in the blob store is still read there, and deleted after.
func TestProcessSealedSource(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		p, local, kek := newTestPipeline(t, db)
		blobs := &sourceWatch{Store: local}
		p.Blobs = blobs

		acct, svc := newAccountAndService(t, db)
		const said = "the customer said this"
		sealSource := func() (body []byte, meta map[string]string) {
			t.Helper()
			doc, _ := json.Marshal(map[string]any{"sentences": []map[string]any{{"media_channel": 1, "start_time": 0, "end_time": 2.5, "transcript": said}}})
			body, env, err := seal.Seal(kek, EncodeSource(&media.Media{ContentType: "application/json", Data: doc}))
			if err != nil {
				t.Fatal(err)
			}
			return body, env.Metadata()
		}
		create := func(src *store.SealedSource) *convoseal.Transcript {
			t.Helper()
			tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID,
				Channel: []byte(`{}`), MediaURL: SealedSourceURL}
			if err := db.CreateTranscript(ctx, tr, src, func(*sql.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			return tr
		}
		process := func(tr *convoseal.Transcript, status string) *convoseal.Transcript {
			t.Helper()
			if err := p.Process(ctx, tr.SID); err != nil {
				t.Fatalf("Process: %v", err)
			}
			got, err := db.TranscriptForJob(ctx, tr.SID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != status {
				t.Fatalf("status %s (%q), want %s", got.Status, got.FailureReason, status)
			}
			if _, err := db.TranscriptSource(ctx, tr.SID); !errors.Is(err, convoseal.ErrNotFound) {
				t.Fatalf("sealed source after the transcript %s: %v", status, err)
			}
			return got
		}
		wantSentence := func(tr *convoseal.Transcript) {
			t.Helper()
			key := SentencesKey(acct.SID, tr.SID, false)
			body, meta, err := local.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			env, err := seal.ParseMetadata(meta)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := p.Keys.Open(keyring.ObjectBinding(acct.SID, tr.SID, key), body, env)
			if err != nil {
				t.Fatal(err)
			}
			var doc convoseal.SentencesDocument
			if err := json.Unmarshal(plain, &doc); err != nil || len(doc.Sentences) != 1 || doc.Sentences[0].Transcript != said {
				t.Fatalf("sentences %s, %v", plain, err)
			}
		}

		// In the database: no blob operation on a source at all.
		body, meta := sealSource()
		tr := create(&store.SealedSource{Body: body, Metadata: meta})
		process(tr, convoseal.StatusCompleted)
		wantSentence(tr)
		if ops := blobs.take(); len(ops) != 0 {
			t.Errorf("blob operations on a source kept in the database: %v", ops)
		}
		// A retried job (the transcript already finished) does nothing.
		if err := p.Process(ctx, tr.SID); err != nil {
			t.Fatal(err)
		}
		blobs.take()

		// Left in the blob store by an earlier version: read there, then
		// deleted.
		tr = create(nil)
		body, meta = sealSource()
		if err := local.Put(ctx, SourceKey(acct.SID, tr.SID), body, meta); err != nil {
			t.Fatal(err)
		}
		process(tr, convoseal.StatusCompleted)
		wantSentence(tr)
		key := SourceKey(acct.SID, tr.SID)
		if ops := blobs.take(); strings.Join(ops, ", ") != "GET "+key+", DELETE "+key {
			t.Errorf("blob operations on a source left in the blob store: %v", ops)
		}
		if _, _, err := local.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("source left in the blob store after completion: %v", err)
		}

		// A damaged source fails the transcript, and is deleted with it.
		body, meta = sealSource()
		body[len(body)-1] ^= 1
		tr = create(&store.SealedSource{Body: body, Metadata: meta})
		if got := process(tr, convoseal.StatusFailed); got.FailureReason != "the stored media cannot be opened with the server key" {
			t.Errorf("failure reason %q", got.FailureReason)
		}
		if ops := blobs.take(); len(ops) != 0 {
			t.Errorf("blob operations on a damaged source kept in the database: %v", ops)
		}

		// No source anywhere.
		tr = create(nil)
		if got := process(tr, convoseal.StatusFailed); got.FailureReason != "the submitted media is missing from storage" {
			t.Errorf("failure reason %q", got.FailureReason)
		}
	})
}

// EncodeSource writes what json.Marshal of the same struct writes, so that
// sources sealed before and after read alike.
func TestEncodeSourceMatchesMarshal(t *testing.T) {
	for _, m := range []*media.Media{
		{ContentType: "application/json", Data: []byte(`{"sentences":[]}`)},
		{ContentType: "text/vtt; <&>", Data: []byte{0, 1, 2, 250}},
		{ContentType: "", Data: []byte{}},
		{ContentType: "x", Data: nil},
	} {
		want, _ := json.Marshal(struct {
			ContentType string `json:"content_type"`
			Data        []byte `json:"data"`
		}{m.ContentType, m.Data})
		if got := EncodeSource(m); string(got) != string(want) {
			t.Errorf("EncodeSource = %s, want %s", got, want)
		}
	}
}
