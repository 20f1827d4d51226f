package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/spf13/cobra"
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

// newServicesLLMCommand is `services llm`, which switches whether a
// Service's transcripts may go to the language model; data and database are
// the parent command's persistent flags.
func newServicesLLMCommand(data, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   "llm SERVICE_SID on|off",
		Short: "Switch the language model for a Service (operator only)",
		Long: `With the language model on, serve --llm-url sends the sentences of the
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
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !convoseal.ValidSID(convoseal.PrefixService, args[0]) {
				return usageErrorf("%q is not a Service SID (GA followed by 32 hexadecimal digits)", args[0])
			}
			var on bool
			switch args[1] {
			case "on":
				on = true
			case "off":
			default:
				return usageErrorf("the second argument must be on or off")
			}
			if err := bindEnv(cmd.Flags()); err != nil {
				return withCode(exitUsage, err)
			}
			db, err := openStore(cmd.Context(), *database, *data)
			if err != nil {
				return err
			}
			defer db.Close()
			svc, err := db.SetLanguageModel(cmd.Context(), convoseal.NormalizeSID(args[0]), on)
			if err != nil {
				return fmt.Errorf("service %s: %w", args[0], err)
			}
			state := "OFF: its transcripts are not sent to the language model"
			switch {
			case svc.LanguageModel && svc.EncryptionCredentialSID != "":
				state = "ON: its transcripts, sealed with the customer's key " + svc.EncryptionCredentialSID +
					", are sent in plain text to the language model (serve --llm-url)"
			case svc.LanguageModel:
				state = "ON: its transcripts (sealed with the server key) are sent to the language model (serve --llm-url)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s (%s): language model %s\n", svc.SID, svc.UniqueName, state)
			return nil
		},
	}
}
