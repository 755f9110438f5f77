package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parley-chat/parley/sqlite"
)

// backup copies the SQLite database of cfg into the new file cfg.args[0],
// while a server may be using it, and says so on stdout.
func backup(ctx context.Context, cfg *config, stdout io.Writer) error {
	if isPostgres(cfg.database) {
		return fmt.Errorf("parley backup copies SQLite databases; back up PostgreSQL with pg_dump, such as pg_dump -Fc -f parley.dump DATABASE_URL (see docs/OPERATIONS.md)")
	}
	to := cfg.args[0]
	if err := sqlite.Backup(ctx, cfg.database, to); err != nil {
		return err
	}
	size := "?"
	if fi, err := os.Stat(to); err == nil {
		size = fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%s, integrity check ok)\n", cfg.database, to, size)
	return nil
}
