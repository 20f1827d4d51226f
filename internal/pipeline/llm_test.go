package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/operators"
	"github.com/convoseal/convoseal/internal/store"
)

type stubLLM struct{}

func (stubLLM) Complete(context.Context, string, string, json.RawMessage) (string, error) {
	return "", nil
}

// TestOperatorDepsWithholdLLM: a transcript's operators get the language
// model only when its Service has it on, as the Service is when the
// transcript is processed.
func TestOperatorDepsWithholdLLM(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		acct, plain := newAccountAndService(t, db)
		key := &convoseal.PublicKey{SID: convoseal.NewSID(convoseal.PrefixPublicKey), AccountSID: acct.SID, PEM: "-----PEM-----", Fingerprint: "fp"}
		if err := db.CreatePublicKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		keyed := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: acct.SID, UniqueName: "keyed",
			LanguageCode: "en-US", WebhookHTTPMethod: "POST", EncryptionCredentialSID: key.SID}
		if err := db.CreateService(ctx, keyed); err != nil {
			t.Fatal(err)
		}
		p := &Pipeline{DB: db, Operators: operators.Deps{LLM: stubLLM{}}}
		deps := func(svc *convoseal.Service) operators.Deps {
			t.Helper()
			d, err := p.operatorDeps(ctx, &convoseal.Transcript{AccountSID: acct.SID, ServiceSID: svc.SID, EncryptionCredentialSID: svc.EncryptionCredentialSID})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := deps(keyed); d.LLM != nil || !d.LLMWithheld {
			t.Fatalf("customer-key Service by default: %+v", d)
		}
		if d := deps(plain); d.LLM == nil || d.LLMWithheld {
			t.Fatalf("server-key Service by default: %+v", d)
		}
		if _, err := db.SetLanguageModel(ctx, keyed.SID, true); err != nil {
			t.Fatal(err)
		}
		if d := deps(keyed); d.LLM == nil {
			t.Fatalf("customer-key Service switched on: %+v", d)
		}
		if _, err := db.SetLanguageModel(ctx, keyed.SID, false); err != nil {
			t.Fatal(err)
		}
		if d := deps(keyed); d.LLM != nil {
			t.Fatalf("customer-key Service switched off again: %+v", d)
		}
		// Without a model configured, nothing is withheld: generative
		// operators say no model is configured.
		p.Operators = operators.Deps{}
		if d := deps(keyed); d.LLMWithheld {
			t.Fatalf("no model configured: %+v", d)
		}
	})
}
