package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/audio"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// twoTones is a 3 s stereo recording at 8 kHz: 440 Hz on channel 1, 660 Hz
// on channel 2, never zero for long.
func twoTones() *audio.Decoded {
	const rate, secs = 8000, 3
	d := &audio.Decoded{SampleRate: rate, Channels: [][]int16{make([]int16, rate*secs), make([]int16, rate*secs)}, Format: "test"}
	for i := range d.Channels[0] {
		x := float64(i) / rate
		d.Channels[0][i] = int16(8000 * math.Sin(2*math.Pi*440*x+0.3))
		d.Channels[1][i] = int16(8000 * math.Sin(2*math.Pi*660*x+0.7))
	}
	return d
}

// redactedCall is what redactSentences makes of a call with a name said on
// channel 1 (matched words: a placeholder spanning 0.8–1.2 s) and a phone
// number on channel 2 whose words could not be matched (no words, 1.5–2.0 s),
// plus sentences without PII.
var redactedCall = []convoseal.Sentence{
	{MediaChannel: 1, StartTime: 0.2, EndTime: 1.2, Transcript: "my name is [PERSON]", Words: []convoseal.Word{
		{Word: "my", StartTime: 0.2, EndTime: 0.4}, {Word: "name", StartTime: 0.4, EndTime: 0.6},
		{Word: "is", StartTime: 0.6, EndTime: 0.7}, {Word: "[PERSON]", StartTime: 0.8, EndTime: 1.2}}},
	{MediaChannel: 2, StartTime: 1.5, EndTime: 2.0, Transcript: "call me at [PHONE_NUMBER]"},
	{MediaChannel: 2, StartTime: 2.2, EndTime: 2.6, Transcript: "thanks [sic]", Words: []convoseal.Word{{Word: "thanks", StartTime: 2.2, EndTime: 2.6}}},
	{MediaChannel: 1, StartTime: 2.0, EndTime: 2.5, Transcript: "bye"},
}

// silentSpans are the spans redactedCall silences, with the margin, per channel.
var silentSpans = map[int][][2]float64{1: {{0.75, 1.25}}, 2: {{1.45, 2.05}}}

// checkRedactedRecording checks that got is orig with exactly silentSpans
// zeroed (a sample at a span's edge may go either way).
func checkRedactedRecording(t *testing.T, orig, got *audio.Decoded) {
	t.Helper()
	if got.SampleRate != orig.SampleRate || len(got.Channels) != len(orig.Channels) {
		t.Fatalf("redacted recording: %d Hz × %d channels, want %d Hz × %d", got.SampleRate, len(got.Channels), orig.SampleRate, len(orig.Channels))
	}
	rate := float64(orig.SampleRate)
	for c := range orig.Channels {
		if len(got.Channels[c]) != len(orig.Channels[c]) {
			t.Fatalf("channel %d: %d samples, want %d", c+1, len(got.Channels[c]), len(orig.Channels[c]))
		}
		silenced, kept := 0, 0
		for i, s := range got.Channels[c] {
			x := float64(i) / rate
			inside, edge := false, false
			for _, sp := range silentSpans[c+1] {
				inside = inside || (x >= sp[0] && x < sp[1])
				edge = edge || math.Abs(x-sp[0]) < 2/rate || math.Abs(x-sp[1]) < 2/rate
			}
			switch {
			case edge:
			case inside && s != 0:
				t.Fatalf("channel %d at %.4f s: sample %d, want silence", c+1, x, s)
			case !inside && s != orig.Channels[c][i]:
				t.Fatalf("channel %d at %.4f s: sample %d, want the original %d", c+1, x, s, orig.Channels[c][i])
			case inside:
				silenced++
			default:
				kept++
			}
		}
		if silenced == 0 || kept == 0 {
			t.Fatalf("channel %d: %d samples silenced, %d kept", c+1, silenced, kept)
		}
	}
}

// recordingsFixture is a pipeline on db with a local blob store.
type recordingsFixture struct {
	p     *Pipeline
	db    *store.DB
	blobs *blob.Local
	keys  *keyring.Keyring
	acct  *convoseal.Account
}

func newRecordingsFixture(t *testing.T, db *store.DB) *recordingsFixture {
	t.Helper()
	p, local, _ := newTestPipeline(t, db)
	acct, _ := newAccountAndService(t, db)
	return &recordingsFixture{p: p, db: db, blobs: local, keys: p.Keys, acct: acct}
}

// store runs storeRecordings for a new transcript of a new Service shaped by
// edit, with keep-media as given, and returns the transcript and artifacts.
func (f *recordingsFixture) store(t *testing.T, name string, keep bool, rec *audio.Decoded, redacted []convoseal.Sentence,
	edit func(*convoseal.Service)) (*convoseal.Transcript, []convoseal.Artifact) {
	t.Helper()
	ctx := context.Background()
	svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: f.acct.SID, UniqueName: name,
		LanguageCode: "en-US", WebhookHTTPMethod: "POST", AutoRedaction: true, MediaRedaction: true}
	if edit != nil {
		edit(svc)
	}
	if err := f.db.CreateService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if keep {
		if _, err := f.db.SetKeepMedia(ctx, svc.SID, true); err != nil {
			t.Fatal(err)
		}
	}
	tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: f.acct.SID, ServiceSID: svc.SID,
		Channel: []byte(`{}`), MediaURL: "https://example.com/call.wav"}
	if err := f.db.CreateTranscript(ctx, tr, nil, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	r, err := f.keys.Recipient(ctx, tr.AccountSID, tr.EncryptionCredentialSID)
	if err != nil {
		t.Fatal(err)
	}
	w := &artifactWriter{p: f.p, t: tr, recipient: r}
	defer w.clear()
	if err := f.p.storeRecordings(ctx, w, tr, rec, redacted); err != nil {
		t.Fatalf("storeRecordings: %v", err)
	}
	return tr, w.arts
}

// openServer opens a server-sealed recording at key, bound to its place.
func (f *recordingsFixture) openServer(t *testing.T, tr *convoseal.Transcript, key string) *audio.Decoded {
	t.Helper()
	body, meta, err := f.blobs.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := seal.ParseMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := f.keys.Open(keyring.ObjectBinding(tr.AccountSID, tr.SID, key), body, env)
	if err != nil {
		t.Fatalf("opening %s at its place: %v", key, err)
	}
	for _, other := range []keyring.Binding{
		keyring.ObjectBinding(tr.AccountSID, tr.SID, SentencesKey(tr.AccountSID, tr.SID, true)),
		keyring.ObjectBinding(tr.AccountSID, convoseal.NewSID(convoseal.PrefixTranscript), key),
	} {
		if _, err := f.keys.Open(other, body, env); !errors.Is(err, seal.ErrAuthentication) {
			t.Fatalf("%s opened as %+v: %v", key, other, err)
		}
	}
	return decodeWAV(t, plain)
}

func decodeWAV(t *testing.T, wav []byte) *audio.Decoded {
	t.Helper()
	d, err := audio.Decode(wav, "audio/wav", audio.DefaultLimits)
	if err != nil {
		t.Fatalf("decoding the stored recording: %v", err)
	}
	return d
}

// keys lists the objects stored under the transcript's prefix.
func (f *recordingsFixture) keysOf(t *testing.T, prefix string) []string {
	t.Helper()
	l, err := f.blobs.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestStoreRecordingsRedacts: with MediaRedaction the stored recording (the
// only one, keep-media being off) is the original with the placeholder
// words' spans (and a wordless PII sentence) silenced on their own channel
// only, plus the margin; it is sealed with the server key bound to its
// place, recorded as a media artifact, and rec itself is not changed.
func TestStoreRecordingsRedacts(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		f := newRecordingsFixture(t, open())
		rec, orig := twoTones(), twoTones()
		tr, arts := f.store(t, "redact", false, rec, redactedCall, nil)
		key := MediaKey(tr.AccountSID, tr.SID, true)
		if len(arts) != 1 || arts[0].Kind != convoseal.ArtifactMedia || !arts[0].Redacted || arts[0].BlobKey != key || arts[0].Size == 0 {
			t.Fatalf("artifacts %+v, want only the redacted recording at %s", arts, key)
		}
		if got := f.keysOf(t, ""); !slices.Equal(got, []string{key}) {
			t.Fatalf("stored %v, want only %s (no original without keep-media)", got, key)
		}
		checkRedactedRecording(t, orig, f.openServer(t, tr, key))
		for c := range rec.Channels {
			if !slices.Equal(rec.Channels[c], orig.Channels[c]) {
				t.Fatalf("storeRecordings changed channel %d of the decoded recording", c+1)
			}
		}
	})
}

// TestStoreRecordingsKeepMedia: the original is stored (as it was) only with
// keep-media on, and on its own when MediaRedaction is off; without either
// nothing is stored; MediaRedaction without redaction on the transcript
// stores no "redacted" recording; data logging copies both.
func TestStoreRecordingsKeepMedia(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		f := newRecordingsFixture(t, open())
		orig := twoTones()

		tr, arts := f.store(t, "keep", true, twoTones(), redactedCall, nil)
		if len(arts) != 2 {
			t.Fatalf("artifacts %+v, want the original and the redacted recording", arts)
		}
		got := f.openServer(t, tr, MediaKey(tr.AccountSID, tr.SID, false))
		for c := range orig.Channels {
			if !slices.Equal(got.Channels[c], orig.Channels[c]) {
				t.Fatalf("the kept original differs on channel %d", c+1)
			}
		}
		checkRedactedRecording(t, orig, f.openServer(t, tr, MediaKey(tr.AccountSID, tr.SID, true)))

		tr, arts = f.store(t, "keep-only", true, twoTones(), nil, func(s *convoseal.Service) { s.AutoRedaction, s.MediaRedaction = false, false })
		if len(arts) != 1 || arts[0].Redacted || arts[0].BlobKey != MediaKey(tr.AccountSID, tr.SID, false) {
			t.Fatalf("keep-media without MediaRedaction: artifacts %+v", arts)
		}

		tr, arts = f.store(t, "neither", false, twoTones(), redactedCall, func(s *convoseal.Service) { s.MediaRedaction = false })
		if len(arts) != 0 || len(f.keysOf(t, TranscriptPrefix(tr.AccountSID, tr.SID))) != 0 {
			t.Fatalf("without MediaRedaction or keep-media: artifacts %+v", arts)
		}

		// A Service switched to MediaRedaction after the transcript was made
		// without redaction: redacted is nil, nothing is stored as redacted.
		tr, arts = f.store(t, "no-redaction", false, twoTones(), nil, func(s *convoseal.Service) { s.AutoRedaction = false })
		if len(arts) != 0 || len(f.keysOf(t, TranscriptPrefix(tr.AccountSID, tr.SID))) != 0 {
			t.Fatalf("MediaRedaction on a transcript without redaction: artifacts %+v", arts)
		}

		tr, arts = f.store(t, "logged", true, twoTones(), redactedCall, func(s *convoseal.Service) { s.DataLogging = true })
		dl := DataLoggingPrefix(tr.AccountSID, tr.SID)
		if got := f.keysOf(t, dl); len(arts) != 2 || !slices.Equal(got, []string{dl + "media/redacted", dl + "media/unredacted"}) {
			t.Fatalf("data logging: artifacts %+v, copies %v", arts, got)
		}
		checkRedactedRecording(t, orig, f.openServer(t, tr, dl+"media/redacted"))
	})
}

// TestStoreRecordingsCustomerKey: with a customer key both recordings are
// sealed for it (the documented format, no binding) and open with the
// private key only.
func TestStoreRecordingsCustomerKey(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		f := newRecordingsFixture(t, open())
		ctx := context.Background()
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pk := &convoseal.PublicKey{SID: convoseal.NewSID(convoseal.PrefixPublicKey), AccountSID: f.acct.SID,
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), Fingerprint: seal.Fingerprint(&priv.PublicKey)}
		if err := f.db.CreatePublicKey(ctx, pk); err != nil {
			t.Fatal(err)
		}
		id, err := seal.NewRSAIdentity(priv)
		if err != nil {
			t.Fatal(err)
		}
		orig := twoTones()
		tr, arts := f.store(t, "customer", true, twoTones(), redactedCall, func(s *convoseal.Service) { s.EncryptionCredentialSID = pk.SID })
		if len(arts) != 2 {
			t.Fatalf("artifacts %+v", arts)
		}
		for _, redacted := range []bool{true, false} {
			key := MediaKey(tr.AccountSID, tr.SID, redacted)
			body, meta, err := f.blobs.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			env, err := seal.ParseMetadata(meta)
			if err != nil {
				t.Fatal(err)
			}
			if env.CredentialSID != pk.SID {
				t.Fatalf("%s: credential %q, want %s", key, env.CredentialSID, pk.SID)
			}
			if _, err := f.keys.Open(keyring.ObjectBinding(tr.AccountSID, tr.SID, key), body, env); err == nil {
				t.Fatalf("%s opened with the server key", key)
			}
			plain, err := seal.Open(id, body, env)
			if err != nil {
				t.Fatalf("%s with the private key: %v", key, err)
			}
			got := decodeWAV(t, plain)
			if redacted {
				checkRedactedRecording(t, orig, got)
			} else if !slices.Equal(got.Channels[1], orig.Channels[1]) {
				t.Fatal("the kept original differs")
			}
		}
	})
}

// TestSilencePIIStrayChannel: a PII sentence whose media_channel is not one
// of the recording's silences every channel (rather than none).
func TestSilencePIIStrayChannel(t *testing.T) {
	rec := twoTones()
	out, copied := silencePII(rec, []convoseal.Sentence{{MediaChannel: 3, StartTime: 1, EndTime: 1.5, Transcript: "[EMAIL]"}})
	if !copied[0] || !copied[1] {
		t.Fatalf("copied %v", copied)
	}
	for c, ch := range out.Channels {
		if ch[int(1.2*8000)] != 0 || ch[int(0.5*8000)] == 0 {
			t.Fatalf("channel %d not silenced at 1.2 s only", c+1)
		}
	}
	if rec.Channels[0][int(1.2*8000)] == 0 {
		t.Fatal("rec changed")
	}
}
