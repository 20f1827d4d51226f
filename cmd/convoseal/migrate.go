package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/convoseal/convoseal/internal/store"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/spf13/cobra"
)

// riverMigrationLock must equal internal/pipeline's riverMigrationLock: the
// PostgreSQL advisory lock that serializes River's migrations between
// processes (serve takes it too when it starts).
const riverMigrationLock int64 = 0x636f6e766f7269 // "convori"

func newMigrateCommand() *cobra.Command {
	var data, database string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the database's tables, then exit (operator)",
		Long: `migrate applies convoseal's schema migrations and those of its job queue
(River) to the installation's database: the PostgreSQL database given with
--database, or the embedded SQLite database under --data (the directory is
created if missing). It prints what it applied and the versions the database
is at. Running it again does nothing; so it is safe to run on every deploy,
e.g. as a Kubernetes init container or a release job before the new processes
start.

serve applies the same migrations when it starts (under the same PostgreSQL
advisory locks, so migrate may run while processes start); migrate lets you
apply them once, ahead of a rollout, and see the result. It needs no key.

Every flag can also be set with an environment variable: --database is
$CONVOSEAL_DATABASE, and so on.`,
		Example: `  convoseal migrate --database postgres://convoseal@db.internal/convoseal
  convoseal migrate --data /var/lib/convoseal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return withCode(exitUsage, err)
			}
			if database == "" {
				if err := os.MkdirAll(data, 0o700); err != nil {
					return fmt.Errorf("data directory: %w", err)
				}
			}
			return migrate(cmd.Context(), database, data, cmd.OutOrStdout())
		},
	}
	addDatabaseFlags(cmd.Flags(), &data, &database)
	return cmd
}

func migrate(ctx context.Context, database, data string, out io.Writer) error {
	// The store applies its migrations when it is opened; those this run
	// applied are the ones recorded from now on.
	start := time.Now().Truncate(time.Microsecond)
	db, err := openStore(ctx, database, data)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.AppliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	var now []string
	version := 0
	for _, m := range applied {
		version = max(version, m.Version)
		if !m.Applied.Before(start) {
			now = append(now, m.Name)
		}
	}
	known := store.KnownMigrations()
	latest := known[len(known)-1].Version
	where := "the embedded SQLite database under " + data
	if database != "" {
		where = "PostgreSQL"
	}
	fmt.Fprintf(out, "metadata (%s): %s; schema version %d", where, appliedText(now), version)
	if version > latest {
		fmt.Fprintf(out, " (newer than this binary, which knows up to %d: upgrade convoseal)", latest)
	}
	fmt.Fprintln(out)

	riverApplied, riverVersion, err := migrateRiver(ctx, db)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	fmt.Fprintf(out, "job queue (River): %s; schema version %d\n", appliedText(riverApplied), riverVersion)
	return nil
}

func appliedText(names []string) string {
	if len(names) == 0 {
		return "up to date"
	}
	return "applied " + strings.Join(names, ", ")
}

// migrateRiver applies River's migrations to the store's database with the
// driver the job queue uses there (riverdatabasesql on PostgreSQL, holding
// riverMigrationLock like serve; riversqlite on SQLite, whose write pool has
// one connection) and returns what it applied and River's version.
func migrateRiver(ctx context.Context, db *store.DB) (applied []string, version int, err error) {
	quiet := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	if db.Dialect() == store.DialectPostgres {
		unlock, err := lockRiverMigrations(ctx, db.Write)
		if err != nil {
			return nil, 0, err
		}
		defer unlock()
		m, err := rivermigrate.New(riverdatabasesql.New(db.Write), quiet)
		if err != nil {
			return nil, 0, err
		}
		return runRiverMigrations(ctx, m)
	}
	m, err := rivermigrate.New(riversqlite.New(db.Write), quiet)
	if err != nil {
		return nil, 0, err
	}
	return runRiverMigrations(ctx, m)
}

func runRiverMigrations[TTx any](ctx context.Context, m *rivermigrate.Migrator[TTx]) (applied []string, version int, err error) {
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range res.Versions {
		applied = append(applied, fmt.Sprintf("%03d_%s", v.Version, strings.ReplaceAll(v.Name, " ", "_")))
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range existing {
		version = max(version, v.Version)
	}
	return applied, version, nil
}

// lockRiverMigrations takes riverMigrationLock on one of pool's connections
// (a session lock, as pipeline takes it) and returns its release.
func lockRiverMigrations(ctx context.Context, pool *sql.DB) (unlock func(), err error) {
	c, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, riverMigrationLock); err != nil {
		c.Close()
		return nil, err
	}
	return func() {
		c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, riverMigrationLock)
		c.Close()
	}, nil
}
