package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/operators"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// plantedPII is one value of every type the detector knows, in the
// sentences of redactionCall.
var plantedPII = []string{"Anna", "Kowalski", "anna.k@example.com", "(415) 555-0132", "555-0132",
	"4111 1111 1111 1111", "123-45-6789", "GB82 WEST 1234 5698 7654 32", "03/14/1985", "123 Main Street"}

var redactionCall = []string{
	"Hi, my name is Anna Kowalski and I was born on 03/14/1985.",
	"My email is anna.k@example.com and my phone is (415) 555-0132.",
	"Card 4111 1111 1111 1111, social 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32.",
	"I live at 123 Main Street. Thanks Anna, I want a refund and a manager.",
}

// TestProcessRedactedVariants: with redaction on and every pre-built
// operator attached, no redacted artifact holds a planted value, utterance
// parts index the redacted sentence, and redacted sentences keep the timings
// of their other words.
func TestProcessRedactedVariants(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, func(ctx context.Context) (*store.DB, error) {
		return store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "convoseal.db"))
	})
	p, local, kek := newTestPipeline(t, db)
	acct, svc := newAccountAndService(t, db)
	if _, err := db.UpdateService(ctx, acct.SID, svc.SID, 0, func(s *convoseal.Service) error { s.AutoRedaction = true; return nil }); err != nil {
		t.Fatal(err)
	}
	ops := operators.Prebuilt()
	for _, o := range ops {
		if err := db.UpsertPrebuiltOperator(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := db.AttachOperator(ctx, acct.SID, svc.SID, o.SID); err != nil {
			t.Fatal(err)
		}
	}
	var sentences []map[string]any
	for i, text := range redactionCall {
		var words []map[string]any
		for j, w := range strings.Fields(text) {
			words = append(words, map[string]any{"word": w, "start_time": float64(i*10 + j), "end_time": float64(i*10+j) + 0.5})
		}
		sentences = append(sentences, map[string]any{"media_channel": 1, "start_time": float64(i * 10), "end_time": float64(i*10 + 9), "transcript": text, "words": words})
	}
	doc, _ := json.Marshal(map[string]any{"sentences": sentences})
	body, env, err := seal.Seal(kek, EncodeSource(&media.Media{ContentType: "application/json", Data: doc}))
	if err != nil {
		t.Fatal(err)
	}
	tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID,
		Channel: []byte(`{}`), MediaURL: SealedSourceURL}
	if err := db.CreateTranscript(ctx, tr, &store.SealedSource{Body: body, Metadata: env.Metadata()}, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := p.Process(ctx, tr.SID); err != nil {
		t.Fatal(err)
	}
	open := func(key string) []byte {
		t.Helper()
		body, meta, err := local.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		env, err := seal.ParseMetadata(meta)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := seal.OpenBound(kek, body, env, keyring.ObjectBinding(acct.SID, tr.SID, key).AAD())
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	noPII := func(what string, plain []byte) {
		t.Helper()
		for _, v := range plantedPII {
			if strings.Contains(string(plain), v) {
				t.Errorf("redacted %s contains %q: %s", what, v, plain)
			}
		}
	}

	var red convoseal.SentencesDocument
	plain := open(SentencesKey(acct.SID, tr.SID, true))
	noPII("sentences", plain)
	if err := json.Unmarshal(plain, &red); err != nil {
		t.Fatal(err)
	}
	if got, want := red.Sentences[0].Transcript, "Hi, my name is [PERSON] and I was born on [DATE_OF_BIRTH]"; !strings.HasPrefix(got, want) {
		t.Errorf("sentence 0 = %q, want %q…", got, want)
	}
	// Word timings: "Hi," "my" "name" "is" keep theirs; "Anna Kowalski"
	// becomes one placeholder from Anna's start to Kowalski's end.
	w := red.Sentences[0].Words
	if len(w) < 6 || w[1].Word != "my" || w[1].StartTime != 1 || w[4].Word != "[PERSON]" || w[4].StartTime != 4 || w[4].EndTime != 5.5 || w[5].Word != "and" || w[5].StartTime != 6 {
		t.Errorf("redacted words of sentence 0: %+v", w)
	}
	if !strings.Contains(string(open(SentencesKey(acct.SID, tr.SID, false))), "Anna Kowalski") {
		t.Error("the unredacted sentences lost the name")
	}

	for _, o := range ops {
		plain := open(OperatorResultKey(acct.SID, tr.SID, o.SID, true))
		noPII(o.FriendlyName, plain)
		var res operators.Result
		if err := json.Unmarshal(plain, &res); err != nil {
			t.Fatal(err)
		}
		for _, ur := range res.UtteranceResults {
			text := red.Sentences[ur.UtteranceIndex].Transcript
			for _, part := range ur.UtteranceParts {
				if part.Start < 0 || part.End > len(text) || part.Start > part.End || text[part.Start:part.End] != part.Text {
					t.Errorf("%s: utterance part %+v does not index redacted sentence %q", o.FriendlyName, part, text)
				}
			}
		}
	}
}
