package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestServeFlagsNameTheirVariables: every serve flag's help names the
// environment variable that sets it, as the other commands' flags do.
func TestServeFlagsNameTheirVariables(t *testing.T) {
	newServeCommand().Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		v := "($" + envName("CONVOSEAL_", f.Name) + ")"
		if strings.Count(f.Usage, v) != 1 {
			t.Errorf("serve --%s: help %q does not name %s once", f.Name, f.Usage, v)
		}
	})
}
