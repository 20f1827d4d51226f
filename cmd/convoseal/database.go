package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/convoseal/convoseal/internal/store"
	"github.com/spf13/pflag"
)

// Help texts of the flags every command that opens the database shares.
const (
	dataFlagHelp     = "the service's data directory, which holds the embedded SQLite database ($CONVOSEAL_DATA)"
	databaseFlagHelp = "PostgreSQL URL (postgres://…), the one serve uses, instead of the embedded SQLite database under --data ($CONVOSEAL_DATABASE)"
)

// addDatabaseFlags adds --data and --database to an operator command.
func addDatabaseFlags(flags *pflag.FlagSet, data, database *string) {
	flags.StringVar(data, "data", "./convoseal-data", dataFlagHelp)
	flags.StringVar(database, "database", "", databaseFlagHelp)
}

// openStore opens the metadata store, applying its migrations: PostgreSQL at
// database when it is set, else the embedded SQLite database
// <data>/convoseal.db (data must exist). serve and every operator command
// open it here.
func openStore(ctx context.Context, database, data string) (*store.DB, error) {
	if database != "" {
		return store.OpenPostgres(ctx, database)
	}
	if _, err := os.Stat(data); err != nil {
		return nil, fmt.Errorf("data directory %s: %w (run convoseal serve once, pass --data, or --database for PostgreSQL)", data, err)
	}
	return store.OpenSQLite(ctx, filepath.Join(data, "convoseal.db"))
}

// kekPath is the key-encryption key file: --kek-file, else <data>/kek.
func kekPath(kekFile, data string) string {
	if kekFile != "" {
		return kekFile
	}
	return filepath.Join(data, "kek")
}

// operatorKEKPath returns the existing key-encryption key file an operator
// command reads (only serve creates one). With --database the data directory
// is usually not the server's, so --kek-file is required unless <data>/kek
// exists: its absence is a usage error, found before connecting.
func operatorKEKPath(database, data, kekFile string) (string, error) {
	path := kekPath(kekFile, data)
	if database != "" && kekFile == "" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return "", usageErrorf("--database needs the installation's key-encryption key (the file serve uses): give --kek-file ($CONVOSEAL_KEK_FILE); %s does not exist", path)
		}
	}
	return path, nil
}
