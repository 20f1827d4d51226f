package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/auth"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
	"github.com/spf13/cobra"
)

func newAccountsCommand() *cobra.Command {
	var data, kekFile string
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Manage accounts (operator)",
		Long: `accounts creates, lists and re-keys the accounts of a convoseal installation.
It works on the database under --data directly (also while serve runs).
Auth Tokens are shown once, when made; only a hash of each is stored.`,
	}
	cmd.PersistentFlags().StringVar(&data, "data", "./convoseal-data", "the service's data directory ($CONVOSEAL_DATA)")
	cmd.PersistentFlags().StringVar(&kekFile, "kek-file", "", "the server key-encryption key (default <data>/kek; $CONVOSEAL_KEK_FILE)")
	open := func(cmd *cobra.Command) (*store.DB, *seal.KEK, error) {
		if err := bindEnv(cmd.Flags()); err != nil {
			return nil, nil, withCode(exitUsage, err)
		}
		if _, err := os.Stat(data); err != nil {
			return nil, nil, fmt.Errorf("data directory %s: %w (run convoseal serve once, or pass --data)", data, err)
		}
		path := kekFile
		if path == "" {
			path = filepath.Join(data, "kek")
		}
		kek, err := keyring.LoadKEK(path)
		if err != nil {
			return nil, nil, err
		}
		db, err := store.OpenSQLite(cmd.Context(), filepath.Join(data, "convoseal.db"))
		return db, kek, err
	}

	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account and print its SID and Auth Token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, kek, err := open(cmd)
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
			db, _, err := open(cmd)
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
			db, kek, err := open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			token := auth.NewToken()
			sealed, err := keyring.SealSecret(kek, token)
			if err != nil {
				return err
			}
			if err := db.SetAuthToken(cmd.Context(), convoseal.NormalizeSID(args[0]), auth.Hash(token), sealed); err != nil {
				return fmt.Errorf("account %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CONVOSEAL_AUTH_TOKEN=%s\n", token)
			return nil
		},
	}
	cmd.AddCommand(create, list, rotate)
	return cmd
}

// createAccount stores a new account: the token's hash for authentication and
// the token sealed with the KEK for signing its webhooks.
func createAccount(ctx context.Context, db *store.DB, kek *seal.KEK, sid, token, name string) error {
	sealed, err := keyring.SealSecret(kek, token)
	if err != nil {
		return err
	}
	return db.CreateAccount(ctx, &convoseal.Account{SID: sid, FriendlyName: name, AuthTokenHash: auth.Hash(token), AuthTokenSealed: sealed})
}
