package main

import (
	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
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

	cmd.AddCommand(
		newServiceSwitchCommand(dataLoggingSwitch, &data, &database),
		newServiceSwitchCommand(languageModelSwitch, &data, &database),
		newServiceSwitchCommand(keepMediaSwitch, &data, &database),
	)
	return cmd
}

// dataLoggingSwitch is `services data-logging`.
var dataLoggingSwitch = serviceSwitch{
	use:   "data-logging SERVICE_SID on|off",
	short: "Switch data logging for a Service (operator only)",
	long: `With data logging on, every new transcript of the Service also leaves a copy
of its sentences, operator results and stored recordings that is NOT sealed
with the customer's public key: it is sealed with the server's key-encryption key, in its own
storage area (blobs/datalogging/…), for improving speech recognition and
language understanding. The server can read that copy.

As with Twilio, data logging cannot be switched on through the public API; the
Service resource shows its state in data_logging, and the service logs a
warning at start for every Service that has it on. Switching it off affects new
transcripts; existing copies stay until their transcripts are deleted.`,
	label: "data logging",
	set:   (*store.DB).SetDataLogging,
	state: func(svc *convoseal.Service) string {
		if svc.DataLogging {
			return "ON: new transcripts keep a copy readable by the server (sealed with the server key, not the customer's)"
		}
		return "OFF"
	},
}
