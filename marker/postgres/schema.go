package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations take the schema from one version to the next: applying
// migrations[i] makes version i+1. One that has shipped is never edited;
// a change is a new entry.
var migrations = [][]string{
	{ // 1: markers, and the counters that number them
		`CREATE TABLE marker_streams (
			stream   text PRIMARY KEY,
			last_id  bigint NOT NULL,
			last_rev bigint NOT NULL
		)`,
		`CREATE TABLE markers (
			stream      text NOT NULL REFERENCES marker_streams ON DELETE CASCADE,
			id          bigint NOT NULL,
			rev         bigint NOT NULL,
			created_rev bigint NOT NULL,
			label       text NOT NULL,
			pts         bigint NOT NULL,
			duration    bigint NOT NULL,
			source      text NOT NULL,
			data        json,
			created     timestamptz NOT NULL,
			deleted     boolean NOT NULL,
			PRIMARY KEY (stream, id),
			UNIQUE (stream, rev)
		)`,
		// Every change is told by the database itself, in the writing
		// transaction, whoever writes: another node, or a program with
		// SQL of its own.
		`CREATE FUNCTION markers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_notify('` + channel + `', json_build_object('stream', NEW.stream, 'rev', NEW.rev)::text);
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER markers_notify AFTER INSERT OR UPDATE ON markers
			FOR EACH ROW EXECUTE FUNCTION markers_notify()`,
	},
	{ // 2: who encodes each stream, until when (lease.go)
		`CREATE TABLE stream_leases (
			stream  text PRIMARY KEY,
			owner   text NOT NULL,
			expires timestamptz NOT NULL
		)`,
	},
}

// migrateLock is the key of the advisory lock held while migrating (the
// bytes of "hlsmark!"), so that nodes starting at once migrate one after
// the other: the second finds the schema current.
const migrateLock = 0x686c736d61726b21

// migrate brings the database's schema to the newest version, in one
// transaction: a failed migration leaves the schema as it was.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"); err != nil {
			return err
		}
		var version int
		err := tx.QueryRow(ctx, "SELECT version FROM schema_version").Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES (0)")
		}
		if err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("the database's schema is version %d, newer than this hlsmark's %d: run a newer hlsmark", version, len(migrations))
		}
		for v := version; v < len(migrations); v++ {
			for _, stmt := range migrations[v] {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("migrate to version %d: %w", v+1, err)
				}
			}
		}
		_, err = tx.Exec(ctx, "UPDATE schema_version SET version = $1", len(migrations))
		return err
	})
}
