package sqlite

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestAccountsAndRoomsDatabaseFailures breaks the tables of accounts,
// private rooms and read markers under a DB, and checks that their methods
// report Internal errors and store nothing.
func TestAccountsAndRoomsDatabaseFailures(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	ctx := t.Context()
	other, err := openPool(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exec := func(query string) {
		t.Helper()
		if _, err := other.ExecContext(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	for _, name := range []string{"ana", "bob"} {
		if err := db.CreateAccount(ctx, &parley.Account{Name: name, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	token, err := db.CreateAccountSession(ctx, "ana", parley.SessionAccount, "laptop", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secret := parley.NewPrivateRoomName()
	if err := db.CreateRoom(ctx, &parley.Room{Name: secret, Kind: parley.RoomPrivate, Owner: "ana"}, nil); err != nil {
		t.Fatal(err)
	}
	off, topic := false, "t"
	rename := func(table string) (string, string) {
		return `ALTER TABLE ` + table + ` RENAME TO broken`, `ALTER TABLE broken RENAME TO ` + table
	}
	refuse := func(table, what string) (string, string) {
		return `CREATE TRIGGER refuse BEFORE ` + what + ` ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'no'); END`, `DROP TRIGGER refuse`
	}
	type call struct {
		name        string
		damage, fix string
		call        func() error
	}
	with := func(name string, damage func() (string, string), f func() error) call {
		d, fix := damage()
		return call{name, d, fix, f}
	}
	calls := []call{
		with("CreateAccount", func() (string, string) { return rename("accounts") }, func() error {
			return db.CreateAccount(ctx, &parley.Account{Name: "cy", PasswordHash: hash})
		}),
		with("CreateAccount", func() (string, string) { return refuse("accounts", "INSERT") }, func() error {
			return db.CreateAccount(ctx, &parley.Account{Name: "cy", PasswordHash: hash})
		}),
		with("Account", func() (string, string) { return rename("accounts") }, func() error { _, err := db.Account(ctx, "ana"); return err }),
		with("HasAccounts", func() (string, string) { return rename("accounts") }, func() error { _, err := db.HasAccounts(ctx); return err }),
		with("UpdateAccount", func() (string, string) { return refuse("accounts", "UPDATE") }, func() error {
			_, err := db.UpdateAccount(ctx, "bob", parley.AccountUpdate{Active: &off})
			return err
		}),
		with("UpdateAccount", func() (string, string) { return refuse("sessions", "DELETE") }, func() error {
			_, err := db.UpdateAccount(ctx, "ana", parley.AccountUpdate{PasswordHash: &hash})
			return err
		}),
		with("CreateAccountSession", func() (string, string) { return rename("accounts") }, func() error {
			_, err := db.CreateAccountSession(ctx, "ana", parley.SessionToken, "", time.Hour)
			return err
		}),
		with("AccountSessions", func() (string, string) { return rename("sessions") }, func() error { _, err := db.AccountSessions(ctx, "ana"); return err }),
		with("EndAccountSession", func() (string, string) { return rename("sessions") }, func() error {
			return db.EndAccountSession(ctx, "ana", parley.HashToken(token))
		}),
		with("CreateRoom", func() (string, string) { return refuse("room_access", "INSERT") }, func() error {
			return db.CreateRoom(ctx, &parley.Room{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate, Owner: "ana"}, []string{"bob"})
		}),
		with("CreateRoom", func() (string, string) { return rename("accounts") }, func() error {
			return db.CreateRoom(ctx, &parley.Room{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate, Owner: "ana"}, nil)
		}),
		with("Role", func() (string, string) { return rename("room_access") }, func() error { _, err := db.Role(ctx, secret, "ana"); return err }),
		with("SetRole", func() (string, string) { return refuse("room_access", "INSERT") }, func() error {
			return db.SetRole(ctx, secret, "bob", parley.RoleMember)
		}),
		with("SetRole", func() (string, string) { return rename("room_access") }, func() error { return db.SetRole(ctx, secret, "bob", "") }),
		with("RoomMembers", func() (string, string) { return rename("room_access") }, func() error { _, err := db.RoomMembers(ctx, secret); return err }),
		with("RoomMembers", func() (string, string) { return rename("rooms") }, func() error { _, err := db.RoomMembers(ctx, secret); return err }),
		with("VisibleRooms", func() (string, string) { return rename("room_access") }, func() error {
			_, err := db.VisibleRooms(ctx, "ana", "", 10)
			return err
		}),
		with("UpdateRoom", func() (string, string) { return refuse("rooms", "UPDATE") }, func() error {
			return db.UpdateRoom(ctx, secret, parley.RoomUpdate{Topic: &topic})
		}),
		with("UpdateRoom", func() (string, string) { return rename("rooms") }, func() error {
			return db.UpdateRoom(ctx, secret, parley.RoomUpdate{Topic: &topic})
		}),
		with("MarkRead", func() (string, string) { return rename("read_markers") }, func() error {
			e := mustAppend(t, db, message("ana", "r-1", "to read"))
			return db.MarkRead(ctx, parley.DefaultRoom, "ana", e.Seq)
		}),
		with("ReadMarker", func() (string, string) { return rename("read_markers") }, func() error {
			_, err := db.ReadMarker(ctx, parley.DefaultRoom, "ana")
			return err
		}),
		with("ReadMarkers", func() (string, string) { return rename("read_markers") }, func() error {
			_, err := db.ReadMarkers(ctx, "ana", "", 10)
			return err
		}),
		with("StoredReadMarkers", func() (string, string) { return rename("read_markers") }, func() error {
			_, err := db.StoredReadMarkers(ctx, parley.StoredReadMarker{}, 10)
			return err
		}),
		with("Accounts", func() (string, string) { return rename("accounts") }, func() error { _, err := db.Accounts(ctx, "", 10); return err }),
		with("ImportAccounts", func() (string, string) { return refuse("accounts", "INSERT") }, func() error {
			return db.ImportAccounts(ctx, []*parley.Account{{Name: "dee", PasswordHash: hash}})
		}),
		with("ImportRoomMembers", func() (string, string) { return refuse("room_access", "INSERT") }, func() error {
			return db.ImportRoomMembers(ctx, []parley.RoomMember{{Room: secret, Name: "bob", Role: parley.RoleMember}})
		}),
	}
	for _, c := range calls {
		exec(c.damage)
		err := c.call()
		exec(c.fix)
		if err == nil || parley.KindOf(err) != parley.Internal {
			t.Errorf("%s() after %s = %v, want an Internal error", c.name, c.damage, err)
		}
	}
	// Nothing was stored: bob is active, with no room but the public ones,
	// and ana's session lasts.
	if a, err := db.Account(ctx, "bob"); err != nil || !a.Deactivated.IsZero() {
		t.Errorf("Account(bob) after the failures = %+v, %v; want him active", a, err)
	}
	if _, err := db.Session(ctx, token); err != nil {
		t.Errorf("Session(ana's) after the failures = %v", err)
	}
	if role, err := db.Role(ctx, secret, "bob"); err != nil || role != "" {
		t.Errorf("Role(bob) after the failures = %q, %v; want none", role, err)
	}
	if r, err := db.Room(ctx, secret); err != nil || r.Topic != "" {
		t.Errorf("Room(secret) after the failures = %+v, %v", r, err)
	}
	if _, err := db.Account(ctx, "cy"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Account(cy) after the failures = %v, want NotFound", err)
	}
}
