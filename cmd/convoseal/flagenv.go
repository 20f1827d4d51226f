package main

import (
	"strings"

	"github.com/spf13/pflag"
)

// envName is the environment variable that sets the flag name: prefix plus
// the name in upper case with "_" for "-".
func envName(prefix, name string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// nameEnvInHelp appends " ($VAR)" to the help of each flag in fs that does
// not name its variable yet.
func nameEnvInHelp(fs *pflag.FlagSet, prefix string) {
	fs.VisitAll(func(f *pflag.Flag) {
		v := "($" + envName(prefix, f.Name) + ")"
		if !strings.Contains(f.Usage, v) {
			f.Usage += " " + v
		}
	})
}
