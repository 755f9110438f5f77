package pgtest_test

import (
	"context"
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
