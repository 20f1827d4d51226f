package main

import (
	"fmt"

	"github.com/convoseal/convoseal"
	"github.com/spf13/cobra"
)

// newServicesKeepMediaCommand is `services keep-media`, which switches
// whether a Service's audio transcripts keep their original recording; data
// and database are the parent command's persistent flags.
func newServicesKeepMediaCommand(data, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   "keep-media SERVICE_SID on|off",
		Short: "Switch keeping original recordings for a Service (operator only)",
		Long: `With keep-media on, every new audio transcript of the Service also keeps its
original recording (16-bit PCM WAV), sealed like its other artifacts: with the
Service's customer key when it has one, else with the server key. The account
downloads it from /v2/Transcripts/{sid}/Media?Redacted=false.

It is off by default: then only the redacted recording is stored, and only
when the Service has MediaRedaction (which needs AutoRedaction). It cannot be
switched through the public API; the Service resource shows its state in
keep_media. Switching takes effect for transcripts processed from then on;
recordings already stored stay until their transcripts are deleted.`,
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
			svc, err := db.SetKeepMedia(cmd.Context(), convoseal.NormalizeSID(args[0]), on)
			if err != nil {
				return fmt.Errorf("service %s: %w", args[0], err)
			}
			state := "OFF: original recordings are not kept"
			if svc.KeepMedia {
				sealed := "the server key"
				if svc.EncryptionCredentialSID != "" {
					sealed = "the customer's key " + svc.EncryptionCredentialSID
				}
				state = "ON: new audio transcripts keep their original recording, sealed with " + sealed
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s (%s): keep media %s\n", svc.SID, svc.UniqueName, state)
			return nil
		},
	}
}
