package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlite"
)

// TestBackupWhileAppending backs a database up while appends commit to it
// from the same process, as `parley backup` does beside a running server,
// and checks that the copy is a sound database holding a prefix of the
// room's log: every entry up to some sequence number, none missing.
func TestBackupWhileAppending(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer db.Close()

	// The appender keeps the newest acknowledged sequence number in acked
	// and signals progress after each append, until told to stop.
	var acked atomic.Int64
	progress := make(chan struct{}, 1)
	stop := make(chan struct{})
	appended := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				appended <- nil
				return
			default:
			}
			e := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: fmt.Sprint("c-", i), Text: fmt.Sprint("message ", i)}
			if _, err := db.Append(context.Background(), &e); err != nil {
				appended <- err
				return
			}
			acked.Store(e.Seq)
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}()
	waitFor := func(seq int64) {
		for acked.Load() < seq {
			select {
			case <-progress:
			case err := <-appended:
				t.Fatalf("Append() = %v", err)
			}
		}
	}

	// Back up once the log holds entries, while more are being appended.
	waitFor(200)
	before := acked.Load()
	to := filepath.Join(dir, "backup.db")
	if err := sqlite.Backup(t.Context(), path, to); err != nil {
		t.Fatalf("Backup() = %v", err)
	}
	during := acked.Load()
	// The appends go on after the backup: it holds nothing up.
	waitFor(during + 50)
	close(stop)
	if err := <-appended; err != nil {
		t.Fatalf("Append() = %v", err)
	}
	total := acked.Load()

	check, err := sql.Open("sqlite", to+"?_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var result string
	if err := check.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
		t.Fatalf("PRAGMA integrity_check on the copy = %q, %v; want ok", result, err)
	}

	cp, err := sqlite.Open(t.Context(), to)
	if err != nil {
		t.Fatalf("Open(the copy) = %v", err)
	}
	defer cp.Close()
	var last int64
	for {
		page, err := cp.Entries(t.Context(), parley.DefaultRoom, parley.Page{After: last, Limit: parley.MaxPageSize, Oldest: true})
		if err != nil {
			t.Fatalf("Entries(after %d) of the copy = %v", last, err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Seq != last+1 {
				t.Fatalf("the copy's log goes from seq %d to %d; want no gap", last, e.Seq)
			}
			last = e.Seq
			if want := fmt.Sprint("message ", e.Seq-1); e.Text != want {
				t.Fatalf("the copy's entry %d holds %q, want %q", e.Seq, e.Text, want)
			}
		}
	}
	if last < before || last >= total {
		t.Errorf("the copy ends at seq %d; want every entry acknowledged before the backup began (%d), and fewer than the %d the database holds at the end", last, before, total)
	}
	t.Logf("backup: %d entries before, %d when it returned, %d in the copy", before, during, last)
	room, err := cp.Room(t.Context(), parley.DefaultRoom)
	if err != nil || room.LastSeq != last {
		t.Errorf("the copy's room = %+v, %v; want its last seq %d", room, err, last)
	}
}

func TestBackupRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	db.Close()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	notParley := filepath.Join(dir, "other.db")
	other, err := sql.Open("sqlite", notParley)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	other.Close()

	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"existing file", path, existing, "exists"},
		{"missing database", filepath.Join(dir, "missing.db"), filepath.Join(dir, "a.db"), "no such file"},
		{"not a Parley database", notParley, filepath.Join(dir, "b.db"), "not a Parley database"},
		{"into a missing directory", path, filepath.Join(dir, "nope", "c.db"), "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := sqlite.Backup(t.Context(), tt.from, tt.to)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Backup(%s, %s) = %v, want an error containing %q", tt.from, tt.to, err, tt.want)
			}
			if tt.to != existing {
				if _, err := os.Stat(tt.to); !os.IsNotExist(err) {
					t.Errorf("after a failed Backup, %s: %v; want it not to exist", tt.to, err)
				}
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep me" {
		t.Errorf("Backup changed the existing file: it holds %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Errorf("Backup of a missing database created it: %v", err)
	}
}
