package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlite"
)

// TestBackupCommand backs up the database of a running server, found
// through PARLEY_DATABASE as serve finds it, and finds the acknowledged
// message in the copy.
func TestBackupCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := inDir(t, nil)
	database := filepath.Join(dir, "parley.db")
	s := startServer(t, database)
	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	send(t, conn, `{"type":"hello","v":1,"nick":"ana"}`)
	readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" })
	send(t, conn, `{"type":"join","room":"general","since":0}`)
	readUntil(t, conn, "joined", func(e event) bool { return e.Type == "joined" })
	send(t, conn, `{"type":"send","room":"general","clientId":"b-1","text":"keep this"}`)
	ack := readUntil(t, conn, "ack", func(e event) bool { return e.Type == "ack" })

	var stdout bytes.Buffer
	env := []string{"PARLEY_DATABASE=" + database}
	if err := run(t.Context(), []string{"backup", "copy.db"}, env, nil, &stdout, io.Discard); err != nil {
		t.Fatalf("run(backup copy.db) with PARLEY_DATABASE = %v", err)
	}
	if want := "backed up " + database + " to copy.db"; !strings.Contains(stdout.String(), want) {
		t.Errorf("run(backup) printed %q, want %q", stdout.String(), want)
	}
	// The server goes on serving.
	send(t, conn, `{"type":"send","room":"general","clientId":"b-2","text":"after"}`)
	readUntil(t, conn, "ack", func(e event) bool { return e.Type == "ack" && e.ClientID == "b-2" })

	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer db.Close()
	entries, err := db.Entries(t.Context(), "general", parley.Page{Limit: 50})
	if err != nil {
		t.Fatalf("Entries of the copy: %v", err)
	}
	if n := len(entries); n == 0 || entries[n-1].Seq != ack.Seq || entries[n-1].Text != "keep this" {
		t.Errorf("the copy's log = %+v, want it to end with seq %d, \"keep this\"", entries, ack.Seq)
	}

	// A flag may follow the file, as it may precede it.
	if err := run(t.Context(), []string{"backup", "copy2.db", "-database", database}, nil, nil, io.Discard, io.Discard); err != nil {
		t.Errorf("run(backup copy2.db -database ...) = %v", err)
	}
}

func TestBackupCommandRefuses(t *testing.T) {
	dir := inDir(t, nil)
	database := filepath.Join(dir, "parley.db")
	if err := run(t.Context(), []string{"migrate", "-database", database}, nil, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"backup", "-database", database, "copy.db"}, nil, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("run(backup) = %v", err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "-database", database, "copy.db"}, "copy.db exists"},
		{[]string{"backup", "-database", database}, "parley backup [flags] FILE"},
		{[]string{"backup", "-database", database, "a.db", "b.db"}, `unexpected argument "b.db"`},
		{[]string{"backup", "-database", "postgres://parley:hunter2@db/parley", "a.db"}, "pg_dump"},
		{[]string{"backup", "-database", filepath.Join(dir, "missing.db"), "a.db"}, "no such file"},
	} {
		err := run(t.Context(), tt.args, nil, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("run(%q) = %v, want an error containing %q (and no password)", tt.args, err, tt.want)
		}
	}
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"help", "backup"}, nil, nil, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "Usage: parley backup [flags] FILE") {
		t.Errorf("run(help backup) = %v, printing %q; want backup's help", err, stdout.String())
	}
}
