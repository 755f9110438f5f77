package postgres_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.OpenFunc {
		url := pgtest.NewDatabase(t)
		return func(ctx context.Context) (parley.Store, error) {
			return postgres.Open(ctx, url)
		}
	})
}
