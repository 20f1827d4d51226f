package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

// warnLanguageModel logs a warning at start naming every Service sealed with
// a customer key whose transcripts go to the language model (serve with
// --llm-url only).
func warnLanguageModel(ctx context.Context, db *store.DB, log *slog.Logger) error {
	on, err := db.LanguageModelServices(ctx)
	if err != nil {
		return fmt.Errorf("listing Services with the language model on: %w", err)
	}
	if len(on) > 0 {
		log.Warn("LANGUAGE MODEL IS ON for these Services sealed with a customer key: their transcripts are sent in plain text to --llm-url, "+
			"readable by the model's provider (switch off with convoseal services llm SID off)", "services", on)
	}
	return nil
}

// languageModelSwitch is `services llm`, which switches whether a Service's
// transcripts may go to the language model.
var languageModelSwitch = serviceSwitch{
	use:   "llm SERVICE_SID on|off",
	short: "Switch the language model for a Service (operator only)",
	long: `With the language model on, serve --llm-url sends the sentences of the
Service's transcripts in plain text to the language model, for Summarization,
Sentiment Analysis and generative operators. For a Service sealed with a
customer key this means that the model's provider, and anyone who can read
this server's traffic to it, can read what otherwise only the customer can.

It is off for a Service with a customer key (EncryptionCredentialSid) and on
for one without (the server can read its content anyway). A Service that gets
a new customer key has it switched off again. With it off, Summarization and
Sentiment Analysis run on the local models and generative operators fail
with a reason saying the language model is not enabled for the Service.

It cannot be switched through the public API; the Service resource shows its
state in language_model, and serve --llm-url logs a warning at start naming
every customer-key Service that has it on. Switching takes effect for
transcripts processed from then on.`,
	label: "language model",
	set:   (*store.DB).SetLanguageModel,
	state: func(svc *convoseal.Service) string {
		switch {
		case svc.LanguageModel && svc.EncryptionCredentialSID != "":
			return "ON: its transcripts, sealed with the customer's key " + svc.EncryptionCredentialSID +
				", are sent in plain text to the language model (serve --llm-url)"
		case svc.LanguageModel:
			return "ON: its transcripts (sealed with the server key) are sent to the language model (serve --llm-url)"
		}
		return "OFF: its transcripts are not sent to the language model"
	},
}
