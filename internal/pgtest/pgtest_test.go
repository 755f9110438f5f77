package pgtest_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestNewDatabase checks that each test gets a database of its own that it
// can write to, and that the server listens on no TCP port.
func TestNewDatabase(t *testing.T) {
	ctx := t.Context()
	a, b := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	if a == b {
		t.Fatalf("NewDatabase() twice = %q both times, want two databases", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("connect to %s: %v", a, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatalf("CREATE TABLE: %v", err)
	}
	var listen string
	if err := conn.QueryRow(ctx, `SHOW listen_addresses`).Scan(&listen); err != nil || listen != "" {
		t.Errorf("SHOW listen_addresses = %q, %v; want empty: no TCP", listen, err)
	}

	other, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatalf("connect to %s: %v", b, err)
	}
	defer other.Close(context.Background())
	var n int
	if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table t in the second database: count = %d, %v; want 0", n, err)
	}
}

// TestRestart: a server restarted as after a crash keeps what was
// committed, and takes connections again.
func TestRestart(t *testing.T) {
	s, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrNotInstalled) {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx := t.Context()
	url, err := s.CreateDatabase(ctx, "restarted")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE t (x int); INSERT INTO t VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart() = %v", err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("a connection made before Restart still answers, want it cut")
	}
	conn.Close(context.Background())
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect after Restart: %v", err)
	}
	defer conn.Close(context.Background())
	var x int
	if err := conn.QueryRow(ctx, `SELECT x FROM t`).Scan(&x); err != nil || x != 42 {
		t.Errorf("SELECT x after Restart = %d, %v; want 42", x, err)
	}
}
