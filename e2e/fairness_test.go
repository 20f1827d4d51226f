package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestFairSchedulingHostileTenant: account A floods the queue with
// transcripts whose media hangs (45 s, longer than the 30 s fetch timeout)
// and a Service with as many heavy fuzzy phrase-matching operators as it may
// attach; account B's trivial transcript still completes within seconds.
// Before per-account caps, A's jobs held every worker and B waited for the
// fetches to time out (tens of seconds).
func TestFairSchedulingHostileTenant(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	victim := s.Twilio()
	aSID, aTok := s.NewAccount(t)
	attacker := s.Twilio(aSID, aTok)

	release := make(chan struct{})
	var hits atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(45 * time.Second):
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(func() { close(release); slow.Close() }) // before the server stops

	mkService := func(c interface {
		CreateService(*intelligence.CreateServiceParams) (*intelligence.IntelligenceV2Service, error)
	}, name string) string {
		v, err := c.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName(name))
		if err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
		return *v.Sid
	}
	aSvc := mkService(attacker.IntelligenceV2, "hostile")
	bSvc := mkService(victim.IntelligenceV2, "victim")

	// Heavy operators: fuzzy matching of 100 phrases each, as many as a
	// Service may have; one more is refused.
	phrases := make([]string, 100)
	for i := range phrases {
		phrases[i] = fmt.Sprintf("unbelievable refundable arrangement%d", i)
	}
	const maxOps = 20
	for i := range maxOps + 1 {
		op, err := attacker.IntelligenceV2.CreateCustomOperator((&intelligence.CreateCustomOperatorParams{}).
			SetFriendlyName(fmt.Sprintf("heavy-%d", i)).SetOperatorType("phrase-matching").
			SetConfig(map[string]any{"phrases": phrases, "match_type": "fuzzy"}))
		if err != nil {
			t.Fatalf("create operator: %v", err)
		}
		code, body := s.Do(t, "POST", "/v2/Services/"+aSvc+"/Operators/"+*op.Sid, url.Values{}, aSID, aTok)
		switch {
		case i < maxOps && code/100 != 2:
			t.Fatalf("attach operator %d: %d %v", i, code, body)
		case i == maxOps && code != 400:
			t.Errorf("attach operator %d: %d %v, want 400 (at most %d per Service)", i, code, body, maxOps)
		case i == maxOps:
			t.Logf("operator %d refused: %v", i, body["message"])
		}
	}

	create := func(c interface {
		CreateTranscript(*intelligence.CreateTranscriptParams) (*intelligence.IntelligenceV2Transcript, error)
	}, svc, mediaURL string) string {
		tr, err := c.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(svc).SetChannel(Channel(mediaURL)))
		if err != nil {
			t.Fatalf("create transcript: %v", err)
		}
		return *tr.Sid
	}
	// The flood: more hanging transcripts than the installation has workers
	// (embedded 4; cluster 3 × 4), and two long transcripts for the
	// operators.
	for i := range 16 {
		create(attacker.IntelligenceV2, aSvc, fmt.Sprintf("%s/hang-%d.json", slow.URL, i))
	}
	words := strings.Repeat("someone wanted unbelievable arrangements refundables quickly ", 40)
	var sentences []map[string]any
	for i := range 40 {
		sentences = append(sentences, map[string]any{"media_channel": 1, "start_time": float64(i), "end_time": float64(i) + 0.5, "transcript": words})
	}
	for range 2 {
		create(attacker.IntelligenceV2, aSvc, DataURL(map[string]any{"sentences": sentences}))
	}
	// Let A's jobs take the workers.
	for deadline := time.Now().Add(10 * time.Second); hits.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)

	doc := map[string]any{"sentences": []map[string]any{{"media_channel": 1, "start_time": 0.0, "end_time": 1.0, "transcript": "hello there"}}}
	for i := range 3 {
		start := time.Now()
		sid := create(victim.IntelligenceV2, bSvc, DataURL(doc))
		tr := WaitTranscript(t, victim, sid, 5*time.Minute) // long enough to measure the old behaviour
		took := time.Since(start)
		t.Logf("victim transcript %d: %s in %.2f s (attacker's media requests so far: %d)", i, *tr.Status, took.Seconds(), hits.Load())
		if *tr.Status != "completed" {
			t.Fatalf("victim transcript %s", *tr.Status)
		}
		if took > 15*time.Second {
			t.Fatalf("victim transcript took %s behind the attacker's flood, want < 15 s", took)
		}
	}
}
