package sqlite_test

import (
	"bytes"
	"context"
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
