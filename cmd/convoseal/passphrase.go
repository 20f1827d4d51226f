package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

const defaultPassphraseEnv = "CONVOSEAL_PASSPHRASE"

// readPassphrase takes the passphrase from the environment variable env or,
// when it is unset, from the terminal. With confirm it is asked for twice.
func readPassphrase(env string, confirm bool) ([]byte, error) {
	if env != "" {
		if v, ok := os.LookupEnv(env); ok {
			if v == "" {
				return nil, fmt.Errorf("the passphrase in $%s is empty", env)
			}
			return []byte(v), nil
		}
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		if tty != nil {
			tty.Close()
		}
		return nil, fmt.Errorf("a passphrase is needed: set $%s or run on a terminal", env)
	}
	defer tty.Close()
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(tty, prompt)
		p, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return p, err
	}
	p, err := ask("Passphrase: ")
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase")
	}
	if confirm {
		again, err := ask("Passphrase again: ")
		if err != nil {
			return nil, fmt.Errorf("reading passphrase: %w", err)
		}
		if !bytes.Equal(p, again) {
			return nil, errors.New("the passphrases do not match")
		}
	}
	return p, nil
}
