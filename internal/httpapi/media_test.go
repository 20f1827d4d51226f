package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/pipeline"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// mediaFixture is an API on SQLite and a local blob store, called as one
// account (authentication is not what these tests are about).
type mediaFixture struct {
	s     *Server
	db    *store.DB
	blobs *blob.Local
	kek   *seal.KEK
	acct  string
	mux   *http.ServeMux
}

func newMediaFixture(t *testing.T) *mediaFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kek, err := seal.NewKEK(seal.GenerateKEK())
	if err != nil {
		t.Fatal(err)
	}
	local, err := blob.NewLocal(t.TempDir(), "http://localhost", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	acct := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: "a", AuthTokenHash: []byte("h")}
	if err := db.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	s := &Server{DB: db, Blobs: local, Keys: keyring.New(kek, nil, db), PublicURL: "http://api.test", URLExpiry: 3600e9,
		Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	s.routes(mux)
	return &mediaFixture{s: s, db: db, blobs: local, kek: kek, acct: acct.SID, mux: mux}
}

// do sends a request as the fixture's account and returns the status and body.
func (f *mediaFixture) do(t *testing.T, method, path string, form url.Values) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r = r.WithContext(context.WithValue(r.Context(), accountKey, f.acct))
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	return w.Code, w.Header(), w.Body.Bytes()
}

func (f *mediaFixture) json(t *testing.T, method, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	code, _, body := f.do(t, method, path, form)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s %s: %d %q", method, path, code, body)
	}
	return code, m
}

// transcript makes a transcript of a new Service (customer key cred, if
// any) and, if recordings is not nil, completes it with those recordings
// (variant → WAV) stored as the pipeline stores them.
func (f *mediaFixture) transcript(t *testing.T, cred string, recordings map[bool][]byte) *convoseal.Transcript {
	t.Helper()
	ctx := context.Background()
	svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: f.acct, UniqueName: convoseal.NewSID("x"),
		LanguageCode: "en-US", WebhookHTTPMethod: "POST", AutoRedaction: true, MediaRedaction: true, EncryptionCredentialSID: cred}
	if err := f.db.CreateService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: f.acct, ServiceSID: svc.SID,
		Channel: []byte(`{"media_properties":{"media_url":"https://media.example.com/call.wav"}}`), MediaURL: "https://media.example.com/call.wav"}
	if err := f.db.CreateTranscript(ctx, tr, nil, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if recordings == nil {
		return tr
	}
	r, err := f.s.Keys.Recipient(ctx, f.acct, tr.EncryptionCredentialSID)
	if err != nil {
		t.Fatal(err)
	}
	var arts []convoseal.Artifact
	for redacted, wav := range recordings {
		key := pipeline.MediaKey(f.acct, tr.SID, redacted)
		var body []byte
		var env seal.Envelope
		if cred == "" {
			body, env, err = seal.SealBound(r, wav, keyring.ObjectBinding(f.acct, tr.SID, key).AAD())
		} else {
			body, env, err = seal.Seal(r, wav)
		}
		if err != nil {
			t.Fatal(err)
		}
		env.CredentialSID = cred
		if err := f.blobs.Put(ctx, key, body, env.Metadata()); err != nil {
			t.Fatal(err)
		}
		arts = append(arts, convoseal.Artifact{TranscriptSID: tr.SID, Kind: convoseal.ArtifactMedia, Redacted: redacted, BlobKey: key, Size: int64(len(body))})
	}
	if ok, err := f.db.CompleteTranscript(ctx, tr.SID, 3, arts, nil); err != nil || !ok {
		t.Fatalf("completing: %v %v", ok, err)
	}
	return tr
}

// mediaURL fetches /Media with query and checks its shape.
func (f *mediaFixture) mediaURL(t *testing.T, tr *convoseal.Transcript, query string) any {
	t.Helper()
	code, m := f.json(t, "GET", "/v2/Transcripts/"+tr.SID+"/Media"+query, nil)
	if code != 200 || m["sid"] != tr.SID || m["account_sid"] != f.acct || m["service_sid"] != tr.ServiceSID ||
		m["url"] != "http://api.test/v2/Transcripts/"+tr.SID+"/Media" {
		t.Fatalf("/Media%s: %d %v", query, code, m)
	}
	v, ok := m["media_url"]
	if !ok {
		t.Fatalf("/Media%s has no media_url: %v", query, m)
	}
	return v
}

// TestMediaServerKey: /Media never echoes the customer's media URL; it is
// null until a recording of the asked variant is stored, and then names
// /Media/Content, which answers the opened WAV; Redacted picks the variant
// and never falls back to the other.
func TestMediaServerKey(t *testing.T) {
	f := newMediaFixture(t)
	pending := f.transcript(t, "", nil)
	if got := f.mediaURL(t, pending, ""); got != nil {
		t.Fatalf("media_url of a transcript with no stored recording: %v, want null", got)
	}
	redWAV, origWAV := []byte("RIFF-redacted-wav"), []byte("RIFF-original-wav")
	tr := f.transcript(t, "", map[bool][]byte{true: redWAV})
	content := "http://api.test/v2/Transcripts/" + tr.SID + "/Media/Content?Redacted="
	if got := f.mediaURL(t, tr, ""); got != content+"true" {
		t.Fatalf("media_url %v, want %s", got, content+"true")
	}
	if got := f.mediaURL(t, tr, "?Redacted=false"); got != nil {
		t.Fatalf("Redacted=false without a kept original: %v, want null", got)
	}
	code, h, body := f.do(t, "GET", strings.TrimPrefix(content, "http://api.test")+"true", nil)
	if code != 200 || h.Get("Content-Type") != "audio/wav" || !bytes.Equal(body, redWAV) {
		t.Fatalf("/Media/Content: %d %s %q", code, h.Get("Content-Type"), body)
	}
	if code, _, _ := f.do(t, "GET", "/v2/Transcripts/"+tr.SID+"/Media/Content?Redacted=false", nil); code != 404 {
		t.Fatalf("/Media/Content of a missing original: %d, want 404", code)
	}

	both := f.transcript(t, "", map[bool][]byte{true: redWAV, false: origWAV})
	if got := f.mediaURL(t, both, "?Redacted=false"); got != "http://api.test/v2/Transcripts/"+both.SID+"/Media/Content?Redacted=false" {
		t.Fatalf("Redacted=false: %v", got)
	}
	if code, _, body := f.do(t, "GET", "/v2/Transcripts/"+both.SID+"/Media/Content?Redacted=false", nil); code != 200 || !bytes.Equal(body, origWAV) {
		t.Fatalf("original: %d %q", code, body)
	}
	if code, m := f.json(t, "GET", "/v2/Transcripts/"+tr.SID+"/Media?Redacted=maybe", nil); code != 400 {
		t.Fatalf("Redacted=maybe: %d %v", code, m)
	}

	// A recording copied to another transcript's place does not open.
	ctx := context.Background()
	body, meta, err := f.blobs.Get(ctx, pipeline.MediaKey(f.acct, both.SID, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.blobs.Put(ctx, pipeline.MediaKey(f.acct, tr.SID, true), body, meta); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := f.do(t, "GET", "/v2/Transcripts/"+tr.SID+"/Media/Content", nil); code != 500 {
		t.Fatalf("a recording moved from another transcript: %d, want 500", code)
	}
}

// TestMediaCustomerKey: for a customer-key transcript media_url is the
// signed location of the sealed recording, whose download carries the
// envelope and opens with the private key only; /Media/Content refuses it.
func TestMediaCustomerKey(t *testing.T) {
	f := newMediaFixture(t)
	ctx := context.Background()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pk := &convoseal.PublicKey{SID: convoseal.NewSID(convoseal.PrefixPublicKey), AccountSID: f.acct,
		PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), Fingerprint: seal.Fingerprint(&priv.PublicKey)}
	if err := f.db.CreatePublicKey(ctx, pk); err != nil {
		t.Fatal(err)
	}
	redWAV := []byte("RIFF-redacted-wav")
	tr := f.transcript(t, pk.SID, map[bool][]byte{true: redWAV})
	loc, ok := f.mediaURL(t, tr, "").(string)
	if !ok || !strings.HasPrefix(loc, "http://localhost/blobs/") {
		t.Fatalf("media_url %v, want a signed location", loc)
	}
	r := httptest.NewRequest("GET", loc, nil)
	w := httptest.NewRecorder()
	f.blobs.Handler().ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("GET location: %d %s", w.Code, w.Body)
	}
	env, err := seal.ParseHeaders(w.Header())
	if err != nil {
		t.Fatalf("envelope headers: %v", err)
	}
	id, _ := seal.NewRSAIdentity(priv)
	plain, err := seal.Open(id, w.Body.Bytes(), env)
	if err != nil || !bytes.Equal(plain, redWAV) {
		t.Fatalf("opening the download with the private key: %q %v", plain, err)
	}
	if _, err := seal.Open(f.kek, w.Body.Bytes(), env); err == nil {
		t.Fatal("the server key opened a customer-key recording")
	}
	code, m := f.json(t, "GET", "/v2/Transcripts/"+tr.SID+"/Media/Content", nil)
	if code != 400 || !strings.Contains(m["message"].(string), "private key") {
		t.Fatalf("/Media/Content of a customer-key transcript: %d %v", code, m)
	}
	if got := f.mediaURL(t, tr, "?Redacted=false"); got != nil {
		t.Fatalf("Redacted=false: %v, want null", got)
	}
}

// TestServiceMediaSettings: MediaRedaction needs AutoRedaction (400, on
// create and update); keep_media shows on the Service and the API cannot
// change it (403).
func TestServiceMediaSettings(t *testing.T) {
	f := newMediaFixture(t)
	code, m := f.json(t, "POST", "/v2/Services", url.Values{"UniqueName": {"m1"}, "MediaRedaction": {"true"}})
	if code != 400 || !strings.Contains(m["message"].(string), "AutoRedaction") {
		t.Fatalf("MediaRedaction without AutoRedaction: %d %v", code, m)
	}
	code, m = f.json(t, "POST", "/v2/Services", url.Values{"UniqueName": {"m1"}, "MediaRedaction": {"true"}, "AutoRedaction": {"true"}})
	if code != 201 || m["media_redaction"] != true || m["keep_media"] != false {
		t.Fatalf("MediaRedaction with AutoRedaction: %d %v", code, m)
	}
	sid := m["sid"].(string)
	if code, m = f.json(t, "POST", "/v2/Services/"+sid, url.Values{"AutoRedaction": {"false"}}); code != 400 {
		t.Fatalf("AutoRedaction=false with MediaRedaction on: %d %v", code, m)
	}
	if code, m = f.json(t, "POST", "/v2/Services/"+sid, url.Values{"AutoRedaction": {"false"}, "MediaRedaction": {"false"}}); code != 200 {
		t.Fatalf("both off: %d %v", code, m)
	}
	if code, m = f.json(t, "POST", "/v2/Services/"+sid, url.Values{"MediaRedaction": {"true"}}); code != 400 {
		t.Fatalf("MediaRedaction=true on a Service without AutoRedaction: %d %v", code, m)
	}
	for _, req := range []struct {
		path string
		form url.Values
	}{
		{"/v2/Services/" + sid, url.Values{"KeepMedia": {"true"}}},
		{"/v2/Services", url.Values{"UniqueName": {"m2"}, "KeepMedia": {"true"}}},
	} {
		code, m := f.json(t, "POST", req.path, req.form)
		if code != 403 || !strings.Contains(m["message"].(string), "keep-media") {
			t.Fatalf("POST %s %v: %d %v, want 403", req.path, req.form, code, m)
		}
	}
	if code, m = f.json(t, "POST", "/v2/Services/"+sid, url.Values{"KeepMedia": {"false"}}); code != 200 {
		t.Fatalf("KeepMedia=false (unchanged): %d %v", code, m)
	}
	if _, err := f.db.SetKeepMedia(context.Background(), sid, true); err != nil {
		t.Fatal(err)
	}
	if code, m = f.json(t, "GET", "/v2/Services/"+sid, nil); code != 200 || m["keep_media"] != true {
		t.Fatalf("after SetKeepMedia: %d %v", code, m)
	}
}
