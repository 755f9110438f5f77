package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.OpenFunc {
		path := filepath.Join(t.TempDir(), "parley.db")
		return func(ctx context.Context) (parley.Store, error) {
			return sqlite.Open(ctx, path)
		}
	})
}

// TestSessionTokensAreStoredHashed reads the database files as an attacker
// who copied them would: no token that could be presented is in them.
func TestSessionTokensAreStoredHashed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	token, err := db.CreateSession(t.Context(), "ana", time.Hour)
	if err != nil {
		t.Fatalf("CreateSession() = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	files, _ := filepath.Glob(path + "*")
	found := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(token)) {
			t.Errorf("%s holds the session token %q", filepath.Base(f), token)
		}
		found = found || bytes.Contains(data, []byte(parley.HashToken(token)))
	}
	if !found {
		t.Errorf("no file of %q holds the token's hash: was the session stored?", files)
	}
}

// TestExpiredSessionsAreSwept: expired sessions do not pile up; each new
// session sweeps some away.
func TestExpiredSessionsAreSwept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer db.Close()
	for i := range 10 {
		if _, err := db.CreateSession(t.Context(), fmt.Sprint("gone", i), -time.Minute); err != nil {
			t.Fatalf("CreateSession() = %v", err)
		}
	}
	if _, err := db.CreateSession(t.Context(), "ana", time.Hour); err != nil {
		t.Fatalf("CreateSession() = %v", err)
	}
	// Read the table as an operator would, beside the running store.
	conn, err := sql.Open("sqlite", path+"?_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("sessions table holds %d rows after 10 expired and 1 live session, want 1", n)
	}
}
