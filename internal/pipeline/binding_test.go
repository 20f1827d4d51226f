package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// TestServerSealedBindings: what the pipeline seals with the server key
// (artifacts and data-logging copies) opens only at its own place; a sealed
// source or media URL made for another transcript does not open; a media
// URL with credentials, kept sealed, is fetched with them.
func TestServerSealedBindings(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		p, local, kek := newTestPipeline(t, db)
		p.Fetcher = &media.Fetcher{AllowPrivate: true}
		keys := p.Keys
		acct, _ := newAccountAndService(t, db)
		svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: acct.SID, UniqueName: "logged",
			LanguageCode: "en-US", WebhookHTTPMethod: "POST", DataLogging: true}
		if err := db.CreateService(ctx, svc); err != nil {
			t.Fatal(err)
		}
		const said = "the customer said this"
		doc, _ := json.Marshal(map[string]any{"sentences": []map[string]any{{"media_channel": 1, "start_time": 0, "end_time": 2.5, "transcript": said}}})

		// The media server wants basic auth and a token in the query.
		var authorized, refused atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, pw, ok := r.BasicAuth(); !ok || u != "user" || pw != "pw-secret" || r.URL.Query().Get("token") != "tok-secret" {
				refused.Add(1)
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			authorized.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write(doc)
		}))
		defer srv.Close()
		full := strings.Replace(srv.URL, "http://", "http://user:pw-secret@", 1) + "/doc.json?token=tok-secret&a=b"

		create := func(mediaURL string, prepare func(tr *convoseal.Transcript) *store.SealedSource) *convoseal.Transcript {
			t.Helper()
			tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID,
				Channel: []byte(`{}`), MediaURL: mediaURL}
			src := prepare(tr)
			if err := db.CreateTranscript(ctx, tr, src, func(*sql.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if err := p.Process(ctx, tr.SID); err != nil {
				t.Fatalf("Process: %v", err)
			}
			got, err := db.TranscriptForJob(ctx, tr.SID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		// A URL with credentials: stored masked, fetched with the sealed one.
		tr := create(media.MaskURL(full), func(tr *convoseal.Transcript) *store.SealedSource {
			sealed, err := keyring.SealSecret(kek, keyring.MediaURLBinding(tr.AccountSID, tr.SID), full)
			if err != nil {
				t.Fatal(err)
			}
			tr.MediaURLSealed = sealed
			return nil
		})
		if tr.Status != convoseal.StatusCompleted || authorized.Load() != 1 || refused.Load() != 0 {
			t.Fatalf("URL with credentials: %s (%q), %d authorized and %d refused fetches", tr.Status, tr.FailureReason, authorized.Load(), refused.Load())
		}
		if strings.Contains(tr.MediaURL, "secret") {
			t.Fatalf("stored media URL %q", tr.MediaURL)
		}

		// Artifacts and data-logging copies open only at their own place.
		key := SentencesKey(acct.SID, tr.SID, false)
		dlKey := DataLoggingPrefix(acct.SID, tr.SID) + "sentences/unredacted"
		for _, k := range []string{key, dlKey} {
			body, meta, err := local.Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			env, err := seal.ParseMetadata(meta)
			if err != nil {
				t.Fatal(err)
			}
			if plain, err := keys.Open(keyring.ObjectBinding(acct.SID, tr.SID, k), body, env); err != nil || !strings.Contains(string(plain), said) {
				t.Fatalf("%s at its place: %v", k, err)
			}
			for _, other := range []keyring.Binding{
				keyring.ObjectBinding(acct.SID, tr.SID, map[string]string{key: dlKey, dlKey: key}[k]),
				keyring.ObjectBinding(acct.SID, convoseal.NewSID(convoseal.PrefixTranscript), k),
				keyring.ObjectBinding(convoseal.NewSID(convoseal.PrefixAccount), tr.SID, k),
			} {
				if _, err := keys.Open(other, body, env); !errors.Is(err, seal.ErrAuthentication) {
					t.Fatalf("%s opened as %+v: %v", k, other, err)
				}
			}
			if _, err := seal.Open(kek, body, env); err == nil {
				t.Fatalf("%s opened without its binding", k)
			}
		}

		// A media URL or source sealed for another transcript does not open.
		elsewhere := convoseal.NewSID(convoseal.PrefixTranscript)
		tr = create(media.MaskURL(full), func(tr *convoseal.Transcript) *store.SealedSource {
			sealed, err := keyring.SealSecret(kek, keyring.MediaURLBinding(tr.AccountSID, elsewhere), full)
			if err != nil {
				t.Fatal(err)
			}
			tr.MediaURLSealed = sealed
			return nil
		})
		if tr.Status != convoseal.StatusFailed || tr.FailureReason != "the stored media URL cannot be opened with the server key" {
			t.Fatalf("URL sealed for another transcript: %s (%q)", tr.Status, tr.FailureReason)
		}
		tr = create(SealedSourceURL, func(tr *convoseal.Transcript) *store.SealedSource {
			body, env, err := keys.Seal(keyring.SourceBinding(tr.AccountSID, elsewhere),
				EncodeSource(&media.Media{ContentType: "application/json", Data: doc}))
			if err != nil {
				t.Fatal(err)
			}
			return &store.SealedSource{Body: body, Metadata: env.Metadata()}
		})
		if tr.Status != convoseal.StatusFailed || tr.FailureReason != "the stored media cannot be opened with the server key" {
			t.Fatalf("source sealed for another transcript: %s (%q)", tr.Status, tr.FailureReason)
		}
		if authorized.Load() != 1 {
			t.Fatalf("%d fetches", authorized.Load())
		}

		// A transcript of an earlier version: the full URL in plain text,
		// nothing sealed; fetched as it is.
		tr = create(full, func(*convoseal.Transcript) *store.SealedSource { return nil })
		if tr.Status != convoseal.StatusCompleted || authorized.Load() != 2 {
			t.Fatalf("earlier version's transcript: %s (%q), %d fetches", tr.Status, tr.FailureReason, authorized.Load())
		}
	})
}
