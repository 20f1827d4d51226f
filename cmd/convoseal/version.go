package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convoseal/convoseal/seal"
)

// versionText describes the running binary from its build information: the
// module version, the VCS commit, whether the tree had uncommitted changes,
// the Go version, and how RSA-sealed artifacts are decrypted (the system's
// libcrypto or Go's crypto/rsa; see seal.RSABackend).
func versionText() string {
	version, commit, modified, goVersion := "(devel)", "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "convoseal %s\n", version)
	fmt.Fprintf(&b, "commit: %s\n", commit)
	fmt.Fprintf(&b, "modified: %s\n", modified)
	fmt.Fprintf(&b, "go: %s\n", goVersion)
	fmt.Fprintf(&b, "rsa-decrypt: %s\n", seal.RSABackend())
	return b.String()
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText())
			return err
		},
	}
}
