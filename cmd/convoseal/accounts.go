package main

import (
	"context"
	"fmt"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/auth"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
	"github.com/spf13/cobra"
)

func newAccountsCommand() *cobra.Command {
	var data, database, kekFile string
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Manage accounts (operator)",
		Long: `accounts creates, lists and re-keys the accounts of a convoseal installation.
It works on the installation's database directly (also while serve runs): the
embedded SQLite database under --data, or, with --database, the PostgreSQL
database that serve --database uses.

create and rotate-token also seal the new Auth Token with the installation's
key-encryption key (the server signs webhooks with the token), so they read
the key serve uses: --kek-file, default <data>/kek. With --database, give
--kek-file unless <data>/kek is that key. list needs no key.

Auth Tokens are shown once, when made; the database keeps a hash of each (to
authenticate) and the token sealed with the key-encryption key.

Every flag can also be set with an environment variable: --database is
$CONVOSEAL_DATABASE, and so on.`,
		Example: `  convoseal accounts create --friendly-name ops
  convoseal accounts list --database postgres://convoseal@db.internal/convoseal
  CONVOSEAL_DATABASE=postgres://… CONVOSEAL_KEK_FILE=/etc/convoseal/kek convoseal accounts rotate-token AC…`,
	}
	addDatabaseFlags(cmd.PersistentFlags(), &data, &database)
	cmd.PersistentFlags().StringVar(&kekFile, "kek-file", "", "the server key-encryption key, for create and rotate-token (default <data>/kek; required with --database unless that exists; $CONVOSEAL_KEK_FILE)")
	// open opens the database and, when needKEK, reads the key-encryption
	// key (a missing one with --database is a usage error, before connecting).
	open := func(cmd *cobra.Command, needKEK bool) (*store.DB, *seal.KEK, error) {
		if err := bindEnv(cmd.Flags()); err != nil {
			return nil, nil, withCode(exitUsage, err)
		}
		var path string
		if needKEK {
			var err error
			if path, err = operatorKEKPath(database, data, kekFile); err != nil {
				return nil, nil, err
			}
		}
		db, err := openStore(cmd.Context(), database, data)
		if err != nil {
			return nil, nil, err
		}
		if !needKEK {
			return db, nil, nil
		}
		kek, err := keyring.LoadKEK(path)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return db, kek, nil
	}

	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account and print its SID and Auth Token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, kek, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer db.Close()
			sid, token := convoseal.NewSID(convoseal.PrefixAccount), auth.NewToken()
			if err := createAccount(cmd.Context(), db, kek, sid, token, name); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CONVOSEAL_ACCOUNT_SID=%s\nCONVOSEAL_AUTH_TOKEN=%s\n", sid, token)
			return nil
		},
	}
	create.Flags().StringVar(&name, "friendly-name", "", "a name for the account")

	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := open(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			accts, err := db.ListAccounts(cmd.Context())
			if err != nil {
				return err
			}
			for _, a := range accts {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\n", a.SID, a.DateCreated.Format("2006-01-02T15:04:05Z"), a.FriendlyName)
			}
			return nil
		},
	}

	rotate := &cobra.Command{
		Use:   "rotate-token ACCOUNT_SID",
		Short: "Replace an account's Auth Token and print the new one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !convoseal.ValidSID(convoseal.PrefixAccount, args[0]) {
				return usageErrorf("%q is not an Account SID (AC followed by 32 hexadecimal digits)", args[0])
			}
			db, kek, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer db.Close()
			token := auth.NewToken()
			sid := convoseal.NormalizeSID(args[0])
			sealed, err := keyring.SealAuthToken(kek, sid, token)
			if err != nil {
				return err
			}
			if err := db.SetAuthToken(cmd.Context(), sid, auth.Hash(token), sealed); err != nil {
				return fmt.Errorf("account %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CONVOSEAL_AUTH_TOKEN=%s\n", token)
			return nil
		},
	}
	cmd.AddCommand(create, list, rotate)
	return cmd
}

// createAccount stores a new account.
func createAccount(ctx context.Context, db *store.DB, kek *seal.KEK, sid, token, name string) error {
	a, err := newAccount(kek, sid, token, name)
	if err != nil {
		return err
	}
	return db.CreateAccount(ctx, a)
}

// newAccount makes an account record: the token's hash for authentication and
// the token sealed with the KEK for signing its webhooks.
func newAccount(kek *seal.KEK, sid, token, name string) (*convoseal.Account, error) {
	sealed, err := keyring.SealAuthToken(kek, sid, token)
	if err != nil {
		return nil, err
	}
	return &convoseal.Account{SID: sid, FriendlyName: name, AuthTokenHash: auth.Hash(token), AuthTokenSealed: sealed}, nil
}
