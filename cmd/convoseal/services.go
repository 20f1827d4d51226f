package main

import (
	"fmt"

	"github.com/convoseal/convoseal"
	"github.com/spf13/cobra"
)

func newServicesCommand() *cobra.Command {
	var data, database string
	cmd := &cobra.Command{
		Use:   "services",
		Short: "Operator settings of Services that the API does not expose",
		Long: `services changes settings of Services that the public API does not expose.
It works on the installation's database directly (also while serve runs): the
embedded SQLite database under --data, or, with --database, the PostgreSQL
database that serve --database uses. It needs no key.

Every flag can also be set with an environment variable: --database is
$CONVOSEAL_DATABASE, and so on.`,
	}
	addDatabaseFlags(cmd.PersistentFlags(), &data, &database)

	dl := &cobra.Command{
		Use:   "data-logging SERVICE_SID on|off",
		Short: "Switch data logging for a Service (operator only)",
		Long: `With data logging on, every new transcript of the Service also leaves a copy
of its sentences, operator results and stored recordings that is NOT sealed
with the customer's public key: it is sealed with the server's key-encryption key, in its own
storage area (blobs/datalogging/…), for improving speech recognition and
language understanding. The server can read that copy.

As with Twilio, data logging cannot be switched on through the public API; the
Service resource shows its state in data_logging, and the service logs a
warning at start for every Service that has it on. Switching it off affects new
transcripts; existing copies stay until their transcripts are deleted.`,
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
			db, err := openStore(cmd.Context(), database, data)
			if err != nil {
				return err
			}
			defer db.Close()
			svc, err := db.SetDataLogging(cmd.Context(), convoseal.NormalizeSID(args[0]), on)
			if err != nil {
				return fmt.Errorf("service %s: %w", args[0], err)
			}
			state := "OFF"
			if svc.DataLogging {
				state = "ON: new transcripts keep a copy readable by the server (sealed with the server key, not the customer's)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s (%s): data logging %s\n", svc.SID, svc.UniqueName, state)
			return nil
		},
	}
	cmd.AddCommand(dl, newServicesLLMCommand(&data, &database), newServicesKeepMediaCommand(&data, &database))
	return cmd
}
