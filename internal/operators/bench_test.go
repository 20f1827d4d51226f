package operators

import (
	"context"
	"testing"
	"time"
)

// benchConversation is a 200-sentence English conversation made of the
// sample calls one after another.
func benchConversation(b *testing.B) *Conversation {
	b.Helper()
	conv := &Conversation{TranscriptSID: "GTbench", LanguageCode: "en-US"}
	names := []string{"refund_escalation", "password_reset", "voicemail", "unavailable", "transfer", "do_not_contact", "sale"}
	for len(conv.Sentences) < 200 {
		for _, n := range names {
			for _, s := range loadConversation(b, n).Sentences {
				if len(conv.Sentences) == 200 {
					break
				}
				s.SentenceIndex = len(conv.Sentences)
				conv.Sentences = append(conv.Sentences, s)
			}
		}
	}
	return conv
}

// BenchmarkOperator runs each pre-built operator (locally, without a
// language model), and all of them in turn, on a 200-sentence conversation.
func BenchmarkOperator(b *testing.B) {
	conv := benchConversation(b)
	ctx := context.Background()
	var runners []Runner
	for _, op := range Prebuilt() {
		r, err := New(op, Deps{})
		if err != nil {
			b.Fatal(err)
		}
		runners = append(runners, r)
		b.Run(op.FriendlyName, func(b *testing.B) {
			if _, err := r.Run(ctx, conv); err != nil { // warm up (lexicons, models)
				b.Fatal(err)
			}
			start := time.Now()
			for b.Loop() {
				if _, err := r.Run(ctx, conv); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(conv.Sentences))/time.Since(start).Seconds(), "sentences/s")
		})
	}
	b.Run("all", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			for _, r := range runners {
				if _, err := r.Run(ctx, conv); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(conv.Sentences))/time.Since(start).Seconds(), "sentences/s")
	})
}
