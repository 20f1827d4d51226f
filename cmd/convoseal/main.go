// Command convoseal is the convoseal service and its customer tools in one
// binary: keygen and decrypt for customers, serve and admin verbs for operators.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, shared by every command and documented in --help.
const (
	exitOK        = 0
	exitFailure   = 1 // anything not listed below
	exitUsage     = 2 // bad flags or arguments
	exitKey       = 3 // the private key cannot be read, parsed or decrypted
	exitWrongKey  = 4 // the artifact is not encrypted for this key
	exitIntegrity = 5 // the file was modified or truncated (authentication failed)
	exitEnvelope  = 6 // IV or encrypted key missing or malformed
	exitDownload  = 7 // the location could not be downloaded (HTTP status, network)
)

const exitCodesHelp = `Exit codes:
  0  success
  1  other failure
  2  usage error (bad flags or arguments)
  3  private key unreadable, malformed, or its passphrase wrong or missing
  4  not encrypted for this key
  5  authentication failed: the file was modified or truncated
  6  IV or encrypted key missing or malformed
  7  download failed (expired or forbidden link, not found, network)`

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "convoseal",
		Short: "Conversation intelligence with zero-access encryption",
		Long: `convoseal runs a Twilio Conversational Intelligence (v2) compatible service whose
transcripts and operator results are sealed with the customer's public key the
moment they are produced, and gives customers the tools to make keys and to
decrypt what they download.

Operators:   convoseal serve (and convoseal migrate, accounts, services, asr-serve).
Customers:   convoseal keygen; convoseal pull (everything new), fetch (one
             transcript) or decrypt (one location); the web console at /console.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	root.AddCommand(newKeygenCommand(), newDecryptCommand(), newFetchCommand(), newPullCommand(), newServeCommand(), newAccountsCommand(), newServicesCommand(), newMigrateCommand(), newASRServeCommand(), newVersionCommand())
	root.Version = versionText()
	root.SetVersionTemplate("{{.Version}}")
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "convoseal:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isCobraUsageError(err) {
		return exitUsage
	}
	return exitFailure
}

// isCobraUsageError recognises cobra's own argument and command errors, which
// are plain errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
