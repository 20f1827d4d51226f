package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/convoseal/convoseal/client"
	"github.com/spf13/pflag"
)

// keyFlags are the private-key flags of the commands that decrypt: PEM files
// (repeatable), an environment variable holding PEM text, and where an
// encrypted key's passphrase comes from.
type keyFlags struct {
	files   []string
	env     string
	passEnv string
}

func (k *keyFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&k.files, "private-key", nil, "PEM file with your RSA private key(s); repeat for several (e.g. before and after a key rotation)")
	f.StringVar(&k.env, "private-key-env", client.EnvPrivateKey, "environment variable holding a private key's PEM text, used when set")
	f.StringVar(&k.passEnv, "passphrase-env", defaultPassphraseEnv, "environment variable holding the private key's passphrase, if it has one (else it is asked for on the terminal)")
}

// given reports whether any key source is present.
func (k *keyFlags) given() bool {
	return len(k.files) > 0 || (k.env != "" && os.Getenv(k.env) != "")
}

// load reads every key. The keys stay in memory only.
func (k *keyFlags) load() (*client.Keyring, error) {
	if !k.given() {
		return nil, usageErrorf("--private-key is required (or the key's PEM text in $%s)", k.env)
	}
	kr, err := client.LoadKeys(client.KeySources{Files: k.files, Env: k.env,
		Passphrase: func(string) ([]byte, error) { return readPassphrase(k.passEnv, false) }})
	if errors.Is(err, client.ErrNoKeys) {
		return nil, withCode(exitKey, fmt.Errorf("no private key found: %w", err))
	}
	if err != nil {
		return nil, withCode(exitKey, err)
	}
	return kr, nil
}
