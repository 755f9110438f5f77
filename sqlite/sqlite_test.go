package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

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
