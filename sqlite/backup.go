package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the SQLite database at path into the
// new file to, and checks the copy. It is safe while a DB (in this process
// or another) reads and writes the database: the copy is one moment of it,
// a transaction's snapshot, made with VACUUM INTO, and writers carry on
// meanwhile (WAL mode lets a reader and the writer work at once).
//
// Backup does not migrate the database, nor create it: path must be a
// Parley database already. It refuses a to that exists, rather than
// overwrite it, and removes what it wrote when it fails. The copy is
// flushed to disk before Backup returns.
func Backup(ctx context.Context, path, to string) error {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("back up sqlite: %q is not a database file name", path)
	}
	if strings.ContainsAny(to, "?#") || strings.HasPrefix(to, "file:") {
		return fmt.Errorf("back up sqlite: %q is not a plain file name", to)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("back up sqlite: %w", err)
	}
	// The command must never create, migrate or change the database it
	// copies: it was checked to exist above, and only reads it. (It cannot
	// be opened query_only: that refuses VACUUM INTO.)
	src, err := openPool(ctx, path)
	if err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	defer src.Close()
	var n int
	if err := src.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'migrations'`).Scan(&n); err != nil {
		return fmt.Errorf("back up sqlite %s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("back up sqlite: %s is not a Parley database (it has no migrations table)", path)
	}

	// Creating the file exclusively is the check that it did not exist,
	// with no window for another to create it; VACUUM INTO accepts an
	// empty file.
	f, err := os.OpenFile(to, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("back up sqlite: %s exists; give a new file name (a backup never overwrites a file)", to)
	}
	if err != nil {
		return fmt.Errorf("back up sqlite: %w", err)
	}
	f.Close()
	if err := vacuumInto(ctx, src, to); err != nil {
		os.Remove(to)
		return err
	}
	return nil
}

// vacuumInto copies the database of src into the empty file to, flushes it
// to disk, and checks it.
func vacuumInto(ctx context.Context, src *sql.DB, to string) error {
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		return fmt.Errorf("back up sqlite into %s: %w", to, err)
	}
	// VACUUM INTO writes the copy without waiting for the disk; a backup
	// that a power cut can tear is no backup.
	if err := syncFile(to); err != nil {
		return fmt.Errorf("back up sqlite: flush %s: %w", to, err)
	}
	if err := syncFile(filepath.Dir(to)); err != nil {
		return fmt.Errorf("back up sqlite: flush the directory of %s: %w", to, err)
	}

	dst, err := openPool(ctx, to, "_pragma=query_only(ON)")
	if err != nil {
		return fmt.Errorf("back up sqlite: open the copy: %w", err)
	}
	defer dst.Close()
	var result string
	if err := dst.QueryRowContext(ctx, `PRAGMA integrity_check(1)`).Scan(&result); err != nil {
		return fmt.Errorf("back up sqlite: check the copy: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("back up sqlite: the copy %s fails its integrity check: %s", to, result)
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
