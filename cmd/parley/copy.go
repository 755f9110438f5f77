package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/sqlite"
)

// `parley migrate copy` moves everything a store holds into another, empty
// one, as it is: rooms with their creation times, every log entry with its
// sequence number, memberships, read markers, accounts with their password
// hashes, and sessions under their token hashes. It
// is how a laptop install (SQLite) moves to production (PostgreSQL), or
// production's data to a developer's SQLite file. People keep their
// nicknames and stay signed in, and clients resume with since as before.

// copySource is what a copy reads of a store, at either end: the source
// to copy it, the target to check that it is empty, both to verify.
type copySource interface {
	Rooms(ctx context.Context, after string, limit int) ([]*parley.Room, error)
	Entries(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error)
	Members(ctx context.Context) ([]parley.Member, error)
	Sessions(ctx context.Context, after string, limit int) ([]parley.StoredSession, error)
	Accounts(ctx context.Context, after string, limit int) ([]*parley.Account, error)
	RoomMembers(ctx context.Context, room string) ([]parley.RoomMember, error)
	StoredReadMarkers(ctx context.Context, after parley.StoredReadMarker, limit int) ([]parley.StoredReadMarker, error)
}

// copyTarget is a store that a copy fills, a transaction per call.
type copyTarget interface {
	copySource
	ImportRooms(ctx context.Context, rooms []*parley.Room) error
	ImportEntries(ctx context.Context, entries []*parley.Entry) error
	ImportMembers(ctx context.Context, members []parley.Member) error
	ImportSessions(ctx context.Context, sessions []parley.StoredSession) error
	ImportAccounts(ctx context.Context, accounts []*parley.Account) error
	ImportRoomMembers(ctx context.Context, members []parley.RoomMember) error
	ImportReadMarkers(ctx context.Context, markers []parley.StoredReadMarker) error
}

// copyStore is a store opened for a copy, as its source or its target.
type copyStore interface {
	copyTarget
	Close() error
}

var (
	_ copyStore = (*sqlite.DB)(nil)
	_ copyStore = (*postgres.DB)(nil)
)

// defaultCopyBatch is how many log entries (or rooms, members, sessions) a
// copy stores in one transaction: a few hundred kilobytes to a few
// megabytes, one statement on PostgreSQL.
const defaultCopyBatch = 1000

// copyOptions are what tests change of a copy.
type copyOptions struct {
	// beforeVerify, if not nil, runs between the copy and its
	// verification.
	beforeVerify func(ctx context.Context) error
}

// migrateCopy runs `parley migrate copy` with args, the arguments after
// "copy", writing what it did to stdout.
func migrateCopy(ctx context.Context, args []string, stdout io.Writer, opts copyOptions) error {
	flags := flag.NewFlagSet("parley migrate copy", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // copyHelp is the help
	from := flags.String("from", "", "")
	to := flags.String("to", "", "")
	batch := flags.Int("batch", defaultCopyBatch, "")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			copyHelp(stdout)
			return nil
		}
		return fmt.Errorf("migrate copy: %v (run 'parley migrate copy -help')", err)
	}
	switch {
	case flags.NArg() > 0:
		return fmt.Errorf("migrate copy: unexpected argument %q (run 'parley migrate copy -help')", flags.Arg(0))
	case *from == "" || *to == "":
		return errors.New("migrate copy: both -from and -to are required (run 'parley migrate copy -help')")
	case *from == *to:
		return errors.New("migrate copy: -from and -to name the same database")
	case *batch < 1:
		return errors.New("migrate copy: -batch must be at least 1")
	}
	fromName, toName := redactDatabase(*from), redactDatabase(*to)
	if !isPostgres(*from) {
		// sqlite.Open would create a missing file, and copy nothing.
		if _, err := os.Stat(*from); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("migrate copy: the source %s does not exist", fromName)
			}
			return fmt.Errorf("migrate copy: source: %w", err)
		}
	}

	src, err := openCopyStore(ctx, *from)
	if err != nil {
		return fmt.Errorf("migrate copy: source %s: %w", fromName, err)
	}
	defer src.Close()
	dst, err := openCopyStore(ctx, *to)
	if err != nil {
		return fmt.Errorf("migrate copy: target %s: %w", toName, err)
	}
	defer dst.Close()

	found, err := notEmpty(ctx, dst)
	switch {
	case err != nil:
		return fmt.Errorf("migrate copy: target %s: %w", toName, err)
	case found != "":
		return fmt.Errorf("migrate copy: the target %s is not empty: it holds %s; copy only into a new database (a new SQLite file, or a PostgreSQL database just created)", toName, found)
	}
	fmt.Fprintf(stdout, "copying %s to %s\n", fromName, toName)
	if err := copyStores(ctx, src, dst, *batch); err != nil {
		return fmt.Errorf("migrate copy: %w (the target may hold part of the copy: drop it, create it again, and copy again)", err)
	}
	if opts.beforeVerify != nil {
		if err := opts.beforeVerify(ctx); err != nil {
			return err
		}
	}
	d, err := verify(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("migrate copy: %w", err)
	}
	var entries int64
	for _, r := range d.rooms {
		entries += r.entries
	}
	fmt.Fprintf(stdout, "rooms     %d\nentries   %d\nmembers   %d\nmarkers   %d\naccounts  %d\nsessions  %d\n", len(d.rooms), entries, d.members.n, d.markers.n, d.accounts.n, d.sessions.n)
	fmt.Fprintln(stdout, "verified: the target holds the same rooms, logs, members, accounts and sessions as the source")
	if err := errors.Join(src.Close(), dst.Close()); err != nil {
		return fmt.Errorf("migrate copy: close: %w", err)
	}
	return nil
}

// copyHelp writes the help of migrate copy to w.
func copyHelp(w io.Writer) {
	fmt.Fprintf(w, `Usage: parley migrate copy -from DATABASE -to DATABASE [-batch N]

Copy everything one database holds into another, empty one, then read
both back and compare them. Either may be a SQLite file or a PostgreSQL
URL: -from ./parley.db -to postgres://user@host/parley moves a laptop
install to production, and the other way round gives a developer a copy
of production's data.

Rooms keep their creation times, log entries their sequence numbers,
senders, texts, client ids and times, read markers their people and
sequence numbers, and sessions their token hashes, nicknames and times:
people keep their nicknames, stay signed in and keep what they have read,
and clients resume with since as before. Stop the servers that use the source
first: what they write while the copy runs may be copied in part, and the
verification then fails.

The target must be new: a SQLite file that does not exist yet, or a
PostgreSQL database just created (createdb), which the copy migrates.
One that holds anything more than an empty room %q is refused. The
source must exist. Times are kept to the millisecond in SQLite, to the
microsecond in PostgreSQL.

After the copy, each room's number of entries, last sequence number and
a SHA-256 checksum of its log (every field of every entry, in order,
times to the millisecond), and the members, read markers and sessions
(counts and checksums), are compared; the command prints a summary and exits with
status 0 when they all agree, 1 otherwise.

A password in a URL is never printed, but other users of the machine may
see it in the process list: put it in PGPASSWORD or ~/.pgpass instead.

  -from DATABASE   the database to copy: a SQLite file or a PostgreSQL URL
  -to DATABASE     the empty database to copy into
  -batch N         entries (or rooms, members, markers, sessions) per transaction
                   (default %d)
`, parley.DefaultRoom, defaultCopyBatch)
}

// openCopyStore opens the store that database names, as openStore does.
func openCopyStore(ctx context.Context, database string) (copyStore, error) {
	if isPostgres(database) {
		return postgres.Open(ctx, database)
	}
	return sqlite.Open(ctx, database)
}

// allRooms reads every room of s, a page at a time.
func allRooms(ctx context.Context, s copySource) ([]*parley.Room, error) {
	var rooms []*parley.Room
	after := ""
	for {
		page, err := s.Rooms(ctx, after, parley.MaxPageSize)
		if err != nil {
			return nil, err
		}
		rooms = append(rooms, page...)
		if len(page) < parley.MaxPageSize {
			return rooms, nil
		}
		after = page[len(page)-1].Name
	}
}

// notEmpty says what s holds, such as "2 log entries, 1 session", when it
// holds more than a store that has just been migrated: the empty room
// parley.DefaultRoom. It returns "" for such a store.
func notEmpty(ctx context.Context, s copySource) (string, error) {
	rooms, err := allRooms(ctx, s)
	if err != nil {
		return "", fmt.Errorf("read rooms: %w", err)
	}
	var found, others []string
	var entries int64
	for _, r := range rooms {
		entries += r.LastSeq
		if r.Name != parley.DefaultRoom {
			others = append(others, fmt.Sprintf("%q", r.Name))
		}
	}
	if n := len(others); n > 0 {
		if n > 3 {
			others = append(others[:3], "…")
		}
		found = append(found, fmt.Sprintf("%s besides %q (%s)", plural(n, "room"), parley.DefaultRoom, strings.Join(others, ", ")))
	}
	if entries > 0 {
		found = append(found, plural(entries, "log entry"))
	}
	members, err := s.Members(ctx)
	if err != nil {
		return "", fmt.Errorf("read members: %w", err)
	}
	if len(members) > 0 {
		found = append(found, plural(len(members), "membership"))
	}
	var accounts, sessions int
	err = eachAccountPage(ctx, s, defaultCopyBatch, func(page []*parley.Account) error {
		accounts += len(page)
		return nil
	})
	if err != nil {
		return "", err
	}
	if accounts > 0 {
		found = append(found, plural(accounts, "account"))
	}
	err = eachSessionPage(ctx, s, defaultCopyBatch, func(page []parley.StoredSession) error {
		sessions += len(page)
		return nil
	})
	if err != nil {
		return "", err
	}
	if sessions > 0 {
		found = append(found, plural(sessions, "session"))
	}
	return strings.Join(found, ", "), nil
}

// plural returns "1 room", "2 rooms", "3 log entries".
func plural[N int | int64](n N, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if s, ok := strings.CutSuffix(noun, "y"); ok {
		return fmt.Sprintf("%d %sies", n, s)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// copyStores copies everything src holds into dst, which must be empty:
// rooms, then their logs room by room, then members, accounts and sessions, at
// most batch of them in each of dst's transactions. It reads the logs a
// page at a time, so that it holds at most one transaction's worth of
// entries, whatever their number.
func copyStores(ctx context.Context, src copySource, dst copyTarget, batch int) error {
	rooms, err := allRooms(ctx, src)
	if err != nil {
		return fmt.Errorf("read rooms: %w", err)
	}
	for chunk := range slices.Chunk(rooms, batch) {
		if err := dst.ImportRooms(ctx, chunk); err != nil {
			return err
		}
	}

	pending := make([]*parley.Entry, 0, batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		first, last := pending[0], pending[len(pending)-1]
		if err := dst.ImportEntries(ctx, pending); err != nil {
			return fmt.Errorf("copy entries %d of %q to %d of %q: %w", first.Seq, first.Room, last.Seq, last.Room, err)
		}
		pending = make([]*parley.Entry, 0, batch)
		return nil
	}
	for _, r := range rooms {
		err := eachEntryPage(ctx, src, r.Name, func(page []*parley.Entry) error {
			for _, e := range page {
				pending = append(pending, e)
				if len(pending) == batch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}

	members, err := src.Members(ctx)
	if err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	for chunk := range slices.Chunk(members, batch) {
		if err := dst.ImportMembers(ctx, chunk); err != nil {
			return err
		}
	}
	err = eachMarkerPage(ctx, src, batch, func(page []parley.StoredReadMarker) error {
		return dst.ImportReadMarkers(ctx, page)
	})
	if err != nil {
		return err
	}
	err = eachAccountPage(ctx, src, batch, func(page []*parley.Account) error {
		return dst.ImportAccounts(ctx, page)
	})
	if err != nil {
		return err
	}
	for _, r := range rooms {
		if r.Kind == "" || r.Kind == parley.RoomPublic {
			continue
		}
		access, err := src.RoomMembers(ctx, r.Name)
		if err != nil {
			return fmt.Errorf("read the members of %q: %w", r.Name, err)
		}
		if err := dst.ImportRoomMembers(ctx, access); err != nil {
			return err
		}
	}
	return eachSessionPage(ctx, src, batch, func(page []parley.StoredSession) error {
		return dst.ImportSessions(ctx, page)
	})
}

// eachAccountPage calls f with each page of at most limit accounts.
func eachAccountPage(ctx context.Context, s copySource, limit int, f func([]*parley.Account) error) error {
	after := ""
	for {
		page, err := s.Accounts(ctx, after, limit)
		if err != nil {
			return fmt.Errorf("read accounts: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := f(page); err != nil {
			return err
		}
		after = page[len(page)-1].Name
	}
}

// eachMarkerPage calls f with each page of at most limit read markers.
func eachMarkerPage(ctx context.Context, s copySource, limit int, f func([]parley.StoredReadMarker) error) error {
	var after parley.StoredReadMarker
	for {
		page, err := s.StoredReadMarkers(ctx, after, limit)
		if err != nil {
			return fmt.Errorf("read read markers: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := f(page); err != nil {
			return err
		}
		after = page[len(page)-1]
	}
}

// eachEntryPage calls f with each page of room's log, oldest first.
func eachEntryPage(ctx context.Context, s copySource, room string, f func([]*parley.Entry) error) error {
	var after int64
	for {
		page, err := s.Entries(ctx, room, parley.Page{After: after, Limit: parley.MaxPageSize, Oldest: true})
		if err != nil {
			return fmt.Errorf("read entries of %q: %w", room, err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := f(page); err != nil {
			return err
		}
		after = page[len(page)-1].Seq
	}
}

// eachSessionPage calls f with each page of at most limit sessions.
func eachSessionPage(ctx context.Context, s copySource, limit int, f func([]parley.StoredSession) error) error {
	after := ""
	for {
		page, err := s.Sessions(ctx, after, limit)
		if err != nil {
			return fmt.Errorf("read sessions: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := f(page); err != nil {
			return err
		}
		after = page[len(page)-1].TokenHash
	}
}

// A digest sums up what a store holds, for comparing two stores without
// holding either in memory.
type digest struct {
	rooms    []roomDigest // in the order of their names
	members  setDigest
	markers  setDigest
	accounts setDigest
	sessions setDigest
}

// roomDigest sums up a room and its log.
type roomDigest struct {
	name      string
	createdAt int64 // Unix milliseconds
	lastSeq   int64 // the room's
	entries   int64
	lastEntry int64 // the sequence number of the last entry, 0 if none
	log       [sha256.Size]byte
}

// setDigest sums up a set of things in an order-independent way: their
// number, and the sum of their SHA-256 hashes, 64 bits at a time. Members
// and sessions are listed in an order that depends on the database's
// collation, so their order must not matter.
type setDigest struct {
	n   int
	sum [4]uint64
}

func (d *setDigest) add(fields ...any) {
	h := sha256.Sum256(appendFields(nil, fields...))
	d.n++
	for i := range d.sum {
		d.sum[i] += binary.BigEndian.Uint64(h[8*i:])
	}
}

// appendFields appends an unambiguous encoding of fields (strings and
// int64s) to b.
func appendFields(b []byte, fields ...any) []byte {
	for _, f := range fields {
		switch f := f.(type) {
		case string:
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		case int64:
			b = binary.BigEndian.AppendUint64(b, uint64(f))
		default:
			panic(fmt.Sprintf("appendFields: %T", f))
		}
	}
	return b
}

// digestOf reads everything s holds and sums it up. Times count to the
// millisecond, which both stores keep.
func digestOf(ctx context.Context, s copySource) (*digest, error) {
	rooms, err := allRooms(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("read rooms: %w", err)
	}
	d := &digest{}
	var buf []byte
	for _, r := range rooms {
		rd := roomDigest{name: r.Name, createdAt: r.CreatedAt.UnixMilli(), lastSeq: r.LastSeq}
		h := sha256.New()
		h.Write(appendFields(nil, string(r.Kind), r.Title, r.Topic, r.Owner, r.Description))
		if r.Kind == parley.RoomPrivate || r.Kind == parley.RoomDirect {
			access, err := s.RoomMembers(ctx, r.Name)
			if err != nil {
				return nil, fmt.Errorf("read the members of %q: %w", r.Name, err)
			}
			for _, m := range access {
				h.Write(appendFields(nil, m.Name, string(m.Role)))
			}
		}
		err := eachEntryPage(ctx, s, r.Name, func(page []*parley.Entry) error {
			for _, e := range page {
				buf = appendFields(buf[:0], e.Seq, string(e.Kind), e.From, e.Text, e.ClientID, e.At.UnixMilli())
				h.Write(buf)
				rd.entries++
				rd.lastEntry = e.Seq
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		h.Sum(rd.log[:0])
		d.rooms = append(d.rooms, rd)
	}
	members, err := s.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	for _, m := range members {
		d.members.add(m.Room, m.Nick)
	}
	err = eachMarkerPage(ctx, s, defaultCopyBatch, func(page []parley.StoredReadMarker) error {
		for _, m := range page {
			d.markers.add(m.NickKey, m.Room, m.Seq)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachSessionPage(ctx, s, defaultCopyBatch, func(page []parley.StoredSession) error {
		for _, ss := range page {
			d.sessions.add(ss.TokenHash, ss.Nick, string(ss.Kind), ss.Label, ss.CreatedAt.UnixMilli(), ss.ExpiresAt.UnixMilli())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachAccountPage(ctx, s, defaultCopyBatch, func(page []*parley.Account) error {
		for _, a := range page {
			admin := "member"
			if a.Admin {
				admin = "admin"
			}
			var deactivated int64
			if !a.Deactivated.IsZero() {
				deactivated = a.Deactivated.UnixMilli()
			}
			d.accounts.add(a.Name, a.DisplayName, a.PasswordHash, admin, a.CreatedAt.UnixMilli(), deactivated)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// verify reads src and dst back and compares them: per room, its creation
// time, its number of entries, its last sequence number and a checksum of
// its log; and the members and the sessions. It returns src's digest, and
// an error that lists the differences, if any.
func verify(ctx context.Context, src, dst copySource) (*digest, error) {
	s, err := digestOf(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("verify: source: %w", err)
	}
	t, err := digestOf(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("verify: target: %w", err)
	}
	if diffs := s.diff(t); len(diffs) > 0 {
		const most = 10
		if len(diffs) > most {
			diffs = append(diffs[:most], fmt.Sprintf("and %d more differences", len(diffs)-most))
		}
		return nil, fmt.Errorf("verify: the target differs from the source:\n  %s", strings.Join(diffs, "\n  "))
	}
	return s, nil
}

// diff lists the differences between d, the source's digest, and t, the
// target's, and the rooms of either whose last sequence number is not
// their last entry's.
func (d *digest) diff(t *digest) []string {
	var diffs []string
	for _, side := range []struct {
		name  string
		rooms []roomDigest
	}{{"source", d.rooms}, {"target", t.rooms}} {
		for _, r := range side.rooms {
			if r.lastSeq != r.lastEntry {
				diffs = append(diffs, fmt.Sprintf("room %q of the %s: its last sequence number is %d, but its last entry's is %d", r.name, side.name, r.lastSeq, r.lastEntry))
			}
		}
	}
	byName := map[string]roomDigest{}
	for _, r := range t.rooms {
		byName[r.name] = r
	}
	for _, s := range d.rooms {
		r, ok := byName[s.name]
		delete(byName, s.name)
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("room %q: missing from the target", s.name))
			continue
		case r.createdAt != s.createdAt:
			diffs = append(diffs, fmt.Sprintf("room %q: created at %d in the source, %d in the target (Unix milliseconds)", s.name, s.createdAt, r.createdAt))
		}
		switch {
		case r.entries != s.entries:
			diffs = append(diffs, fmt.Sprintf("room %q: %s in the source, %d in the target", s.name, plural(s.entries, "entry"), r.entries))
		case r.lastSeq != s.lastSeq:
			diffs = append(diffs, fmt.Sprintf("room %q: last sequence number %d in the source, %d in the target", s.name, s.lastSeq, r.lastSeq))
		case r.log != s.log:
			diffs = append(diffs, fmt.Sprintf("room %q: the logs differ (SHA-256 %s in the source, %s in the target)", s.name, short(s.log), short(r.log)))
		}
	}
	for _, r := range t.rooms {
		if _, extra := byName[r.name]; extra {
			diffs = append(diffs, fmt.Sprintf("room %q: in the target only", r.name))
		}
	}
	for _, set := range []struct {
		name string
		s, t setDigest
	}{{"membership", d.members, t.members}, {"read marker", d.markers, t.markers}, {"account", d.accounts, t.accounts}, {"session", d.sessions, t.sessions}} {
		switch {
		case set.s.n != set.t.n:
			diffs = append(diffs, fmt.Sprintf("%s in the source, %d in the target", plural(set.s.n, set.name), set.t.n))
		case set.s.sum != set.t.sum:
			diffs = append(diffs, fmt.Sprintf("%ss: as many in both, but they differ", set.name))
		}
	}
	return diffs
}

// short returns the first 12 hexadecimal digits of a checksum.
func short(sum [sha256.Size]byte) string {
	return hex.EncodeToString(sum[:6])
}
