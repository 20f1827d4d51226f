package pipeline

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/internal/webhook"
	"github.com/convoseal/convoseal/seal"
)

// webhookAttempt is what a receiver saw of one delivery attempt.
type webhookAttempt struct{ token, timestamp string }

// TestWebhookRetriesKeepTokenAndTimestamp: a receiver that fails the first
// two attempts of an event sees the same I-Twilio-Idempotency-Token and
// Timestamp on all three, for an event queued now and for one queued by an
// earlier version (its job has no timestamp). Retries are a second or more
// apart, so a timestamp taken per attempt would differ.
func TestWebhookRetriesKeepTokenAndTimestamp(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, b queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		var (
			mu       sync.Mutex
			attempts = map[string][]webhookAttempt{} // by TranscriptSid
			done     = make(chan string, 4)
		)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			sid := r.PostForm.Get("TranscriptSid")
			mu.Lock()
			attempts[sid] = append(attempts[sid], webhookAttempt{r.Header.Get("I-Twilio-Idempotency-Token"), r.PostForm.Get("Timestamp")})
			n := len(attempts[sid])
			mu.Unlock()
			if n < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			done <- sid
		}))
		t.Cleanup(recv.Close)

		kek, err := seal.NewKEK(seal.GenerateKEK())
		if err != nil {
			t.Fatal(err)
		}
		acctSID := convoseal.NewSID(convoseal.PrefixAccount)
		sealed, err := keyring.SealAuthToken(kek, acctSID, "token")
		if err != nil {
			t.Fatal(err)
		}
		acct := &convoseal.Account{SID: acctSID, FriendlyName: "a", AuthTokenHash: []byte("h"), AuthTokenSealed: sealed}
		if err := db.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: acct.SID, UniqueName: "s", LanguageCode: "en-US",
			WebhookURL: recv.URL + "/hook", WebhookHTTPMethod: "POST"}
		if err := db.CreateService(ctx, svc); err != nil {
			t.Fatal(err)
		}
		log := discardLog()
		p := &Pipeline{DB: db, Keys: keyring.New(kek, nil, db), Log: log}
		cfg := QueueConfig{Workers: 1, Solo: b.name == store.DialectSQLite, Webhooks: &webhook.Deliverer{AllowPrivate: true, Log: log}, WebhookBackoff: time.Second}
		var q *Queue
		if b.name == store.DialectPostgres {
			q, err = NewPostgresQueue(ctx, db.Write, p, cfg, nil)
		} else {
			q, err = NewSQLiteQueue(ctx, db.Write, p, cfg, nil)
		}
		if err != nil {
			t.Fatal(err)
		}

		newTranscript := func() *convoseal.Transcript {
			tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
			if err := db.CreateTranscript(ctx, tr, nil, func(*sql.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			return tr
		}
		current, previous := newTranscript(), newTranscript()
		if ok, err := db.CompleteTranscript(ctx, current.SID, 1, nil, func(tx *sql.Tx) error {
			return q.NotifyTx(ctx, tx, current, convoseal.StatusCompleted)
		}); err != nil || !ok {
			t.Fatalf("CompleteTranscript = %v, %v", ok, err)
		}
		// A job as the previous version inserted it: no timestamp.
		if ok, err := db.CompleteTranscript(ctx, previous.SID, 1, nil, func(tx *sql.Tx) error {
			_, err := q.client.InsertTx(ctx, tx, WebhookArgs{TranscriptSID: previous.SID, Status: convoseal.StatusCompleted}, nil)
			return err
		}); err != nil || !ok {
			t.Fatalf("CompleteTranscript = %v, %v", ok, err)
		}
		startQueue(t, q)

		timeout := time.After(60 * time.Second)
		for range 2 {
			select {
			case <-done:
			case <-timeout:
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("not delivered on the third attempt within 60 s: %v", attempts)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, tr := range []*convoseal.Transcript{current, previous} {
			got := attempts[tr.SID]
			if len(got) != 3 {
				t.Errorf("%s: %d attempts, want 3", tr.SID, len(got))
				continue
			}
			for i, a := range got {
				if a.token == "" || a.timestamp == "" {
					t.Errorf("%s attempt %d: token %q, Timestamp %q", tr.SID, i+1, a.token, a.timestamp)
				}
				if a != got[0] {
					t.Errorf("%s attempt %d: token %s, Timestamp %s; attempt 1 had %s, %s", tr.SID, i+1, a.token, a.timestamp, got[0].token, got[0].timestamp)
				}
			}
		}
	})
}
