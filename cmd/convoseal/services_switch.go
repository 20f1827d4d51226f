package main

import (
	"context"
	"fmt"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/spf13/cobra"
)

// serviceSwitch describes one `services NAME SERVICE_SID on|off` command.
type serviceSwitch struct {
	use, short, long string
	// label names the setting in the output line ("data logging").
	label string
	// set stores the setting and returns the Service as stored.
	set func(db *store.DB, ctx context.Context, serviceSID string, on bool) (*convoseal.Service, error)
	// state describes the stored setting after label in the output line.
	state func(svc *convoseal.Service) string
}

// newServiceSwitchCommand builds the command spec describes; data and
// database are the parent command's persistent flags.
func newServiceSwitchCommand(spec serviceSwitch, data, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   spec.use,
		Short: spec.short,
		Long:  spec.long,
		Args:  cobra.ExactArgs(2),
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
			svc, err := spec.set(db, cmd.Context(), convoseal.NormalizeSID(args[0]), on)
			if err != nil {
				return fmt.Errorf("service %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s (%s): %s %s\n", svc.SID, svc.UniqueName, spec.label, spec.state(svc))
			return nil
		},
	}
}
