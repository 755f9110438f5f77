package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// memDB is the data of memStore, a simple and obviously correct store kept
// in memory, against which the suite itself is tested. Like a database file,
// it outlives the stores that open it.
type memDB struct {
	mu       sync.Mutex
	rooms    map[string]*memRoom        // guarded by mu
	members  map[parley.Member]bool     // guarded by mu
	sessions map[string]*memSession     // by token hash; guarded by mu
	accounts map[string]*parley.Account // by NickKey; guarded by mu
	markers  map[[2]string]int64        // by NickKey and room; guarded by mu
	deleted  map[string]*memRoom        // rooms deleted, by name, kept for bugs; guarded by mu

	// Bugs, which TestChecksCatchBugs sets to see the checks catch them.
	bugGuestsIgnoreAccounts, bugCaseOnly, bugEndAnySession, bugKeepSessions, bugDeactivatedSignIn bool
	bugAnyoneEdits, bugNoAdminDelete, bugEditDeleted, bugKeepDeletedText, bugEditsStayOld         bool
	bugMarkersMoveBack, bugMarkersByName, bugMarkBeyondLog                                        bool
	bugEveryoneSees, bugEnsureServerMade, bugOwnerRemovable, bugRoomsTwice                        bool
	bugArchivedTakesMessages, bugArchivedTakesAmendments, bugRearchiveRestamps, bugDeleteKeepsLog bool
	bugDeleteKeepsMarkers, bugDeleteKeepsAccess, bugDeleteDefault                                 bool
	bugNicksShared                                                                                bool
	bugAnyoneInRooms                                                                              bool
}

// key returns the key of the name nick: parley.NickKey, unless a bug says
// otherwise.
func (db *memDB) key(nick string) string {
	if db.bugCaseOnly {
		return strings.ToLower(nick)
	}
	return parley.NickKey(nick)
}

type memSession struct {
	parley.Session
	key string // parley.NickKey(Nick)
}

type memRoom struct {
	room     parley.Room
	log      []*parley.Entry
	messages map[[2]string]*parley.Entry  // entries with client ids, by sender and client id
	access   map[string]parley.RoomMember // by NickKey
}

func newMemDB() *memDB {
	db := &memDB{rooms: map[string]*memRoom{}, members: map[parley.Member]bool{}, sessions: map[string]*memSession{}, accounts: map[string]*parley.Account{}, markers: map[[2]string]int64{}, deleted: map[string]*memRoom{}}
	db.addRoom(parley.DefaultRoom)
	return db
}

// open returns a function that opens db.
func (db *memDB) open() OpenFunc {
	return func(context.Context) (parley.Store, error) { return &memStore{db: db}, nil }
}

func (db *memDB) addRoom(name string) *memRoom {
	r := &memRoom{room: parley.Room{Name: name, Kind: parley.RoomPublic, CreatedAt: memNow()}, messages: map[[2]string]*parley.Entry{}, access: map[string]parley.RoomMember{}}
	if old := db.deleted[name]; old != nil && db.bugDeleteKeepsLog {
		r.log, r.messages, r.room.LastSeq = old.log, old.messages, old.room.LastSeq
	}
	db.rooms[name] = r
	return r
}

// memNow returns the time, as a store that keeps milliseconds stores it.
func memNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

var errMemClosed = errors.New("memstore: closed")

// memStore is one open handle on a memDB.
type memStore struct {
	db     *memDB
	closed bool // guarded by db.mu
}

// lock locks the data and returns the unlock function, or an error when s is
// closed.
func (s *memStore) lock() (unlock func(), err error) {
	s.db.mu.Lock()
	if s.closed {
		s.db.mu.Unlock()
		return nil, errMemClosed
	}
	return s.db.mu.Unlock, nil
}

func (s *memStore) room(name string) (*memRoom, error) {
	r := s.db.rooms[name]
	if r == nil {
		return nil, parley.Errorf(parley.NotFound, "There is no room named %q.", name)
	}
	return r, nil
}

func (s *memStore) EnsureRoom(ctx context.Context, name string) (*parley.Room, error) {
	if err := parley.ValidateRoomName(name); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r := s.db.rooms[name]
	if r == nil && parley.ServerMade(name) && !s.db.bugEnsureServerMade {
		return nil, parley.Errorf(parley.NotFound, "There is no room named %q.", name)
	}
	if r == nil {
		r = s.db.addRoom(name)
	}
	return r.view(), nil
}

func (s *memStore) Room(ctx context.Context, name string) (*parley.Room, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := s.room(name)
	if err != nil {
		return nil, err
	}
	return r.view(), nil
}

// view returns a copy of the room, which shares no memory with it.
func (r *memRoom) view() *parley.Room {
	room := r.room
	if room.ArchivedAt != nil {
		at := *room.ArchivedAt
		room.ArchivedAt = &at
	}
	return &room
}

func (s *memStore) Rooms(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	rooms := []*parley.Room{}
	for _, r := range s.db.rooms {
		if r.room.Name > after {
			rooms = append(rooms, r.view())
		}
	}
	slices.SortFunc(rooms, func(a, b *parley.Room) int { return strings.Compare(a.Name, b.Name) })
	return rooms[:min(len(rooms), limit)], nil
}

func (s *memStore) Append(ctx context.Context, e *parley.Entry) (bool, error) {
	if err := e.ValidateMessage(); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	unlock, err := s.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	r, err := s.room(e.Room)
	if err != nil {
		return false, err
	}
	key := [2]string{e.From, e.ClientID}
	if m := r.messages[key]; m != nil {
		*e = *m
		return true, nil
	}
	if r.room.ArchivedAt != nil && !s.db.bugArchivedTakesMessages {
		return false, parley.ErrArchived(e.Room)
	}
	r.messages[key] = r.add(e)
	return false, nil
}

func (s *memStore) Amend(ctx context.Context, e *parley.Entry, admin bool) (bool, error) {
	if err := e.ValidateAmendment(); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	unlock, err := s.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	r, err := s.room(e.Room)
	if err != nil {
		return false, err
	}
	key := [2]string{e.From, e.ClientID}
	if m := r.messages[key]; m != nil {
		*e = *m
		return true, nil
	}
	if r.room.ArchivedAt != nil && !s.db.bugArchivedTakesAmendments {
		return false, parley.ErrArchived(e.Room)
	}
	if e.Target > int64(len(r.log)) || r.log[e.Target-1].Kind != parley.KindMessage {
		return false, parley.ErrNoMessage(e)
	}
	m := r.log[e.Target-1]
	by := parley.Actor{Nick: e.From, Admin: admin && !s.db.bugNoAdminDelete}
	switch {
	case s.db.bugAnyoneEdits:
	case e.Kind == parley.KindEdit && !parley.MayEdit(by, m), e.Kind == parley.KindDelete && !parley.MayDelete(by, m):
		return false, parley.ErrNotYours(e)
	}
	if m.Deleted != 0 && !s.db.bugEditDeleted {
		return false, parley.ErrAlreadyDeleted(e)
	}
	r.messages[key] = r.add(e)
	switch {
	case e.Kind == parley.KindEdit && !s.db.bugEditsStayOld:
		m.Text, m.Edited = e.Text, e.Seq
	case e.Kind == parley.KindDelete:
		m.Deleted = e.Seq
		if !s.db.bugKeepDeletedText {
			m.Text = ""
		}
		for _, x := range r.log {
			if x.Kind == parley.KindEdit && x.Target == m.Seq {
				x.Text, x.Deleted = "", e.Seq
			}
		}
	}
	return false, nil
}

// add stamps e with the room's next number and the time, and stores a copy.
func (r *memRoom) add(e *parley.Entry) *parley.Entry {
	r.room.LastSeq++
	e.Seq, e.At = r.room.LastSeq, memNow()
	stored := *e
	r.log = append(r.log, &stored)
	return &stored
}

func (s *memStore) Join(ctx context.Context, room, nick string) (*parley.Entry, error) {
	return s.change(room, nick, parley.KindJoin, false)
}

func (s *memStore) Leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	return s.change(room, nick, parley.KindLeave, false)
}

func (s *memStore) AddMember(ctx context.Context, room, nick string) (bool, error) {
	e, err := s.change(room, nick, parley.KindJoin, true)
	return e != nil, err
}

func (s *memStore) RemoveMember(ctx context.Context, room, nick string) (bool, error) {
	e, err := s.change(room, nick, parley.KindLeave, true)
	return e != nil, err
}

func (s *memStore) change(room, nick string, kind parley.EntryKind, quiet bool) (*parley.Entry, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return nil, err
	}
	m := parley.Member{Room: room, Nick: nick}
	if s.db.members[m] == (kind == parley.KindJoin) {
		return nil, nil
	}
	if kind == parley.KindJoin {
		s.db.members[m] = true
	} else {
		delete(s.db.members, m)
	}
	e := &parley.Entry{Room: room, Kind: kind, From: nick}
	if !quiet {
		r.add(e)
	}
	return e, nil
}

func (s *memStore) Members(ctx context.Context) ([]parley.Member, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var members []parley.Member
	for m := range s.db.members {
		members = append(members, m)
	}
	return members, nil
}

func (s *memStore) Entries(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return nil, err
	}
	// log[i] has number i+1, so the page is a slice of it.
	end := int64(len(r.log))
	if p.Before > 0 {
		end = min(end, p.Before-1)
	}
	lo := min(p.After, end)
	start := max(lo, end-int64(p.Limit))
	if p.Oldest {
		start = lo
		end = min(end, lo+int64(p.Limit))
	}
	var entries []*parley.Entry
	for _, e := range r.log[start:end] {
		c := *e
		entries = append(entries, &c)
	}
	return entries, nil
}

func (s *memStore) Ping(ctx context.Context) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	unlock()
	return nil
}

func (s *memStore) Close() error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	s.closed = true
	return nil
}

func (s *memStore) CreateSession(ctx context.Context, nick string, ttl time.Duration) (string, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return "", err
	}
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := s.db.claim(nick); err != nil {
		return "", err
	}
	return s.db.addSession(nick, parley.SessionGuest, "", ttl), nil
}

// claim makes nick's name free for a new account or guest, or returns
// nickname_taken. db.mu is held.
func (db *memDB) claim(nick string) error {
	key := db.key(nick)
	if db.accounts[key] != nil && !db.bugGuestsIgnoreAccounts {
		return parley.ErrNicknameTaken(nick)
	}
	for hash, ss := range db.sessions {
		if ss.key != key || ss.Kind != parley.SessionGuest {
			continue
		}
		if ss.ExpiresAt.After(memNow()) && !db.bugNicksShared {
			return parley.ErrNicknameTaken(nick)
		}
		delete(db.sessions, hash)
	}
	return nil
}

// addSession stores a new session and returns its token. db.mu is held.
func (db *memDB) addSession(nick string, kind parley.SessionKind, label string, ttl time.Duration) string {
	now := memNow()
	token := parley.NewToken()
	id := parley.HashToken(token)
	db.sessions[id] = &memSession{
		Session: parley.Session{ID: id, Nick: nick, Kind: kind, Label: label, CreatedAt: now, ExpiresAt: now.Add(ttl)},
		key:     db.key(nick),
	}
	return token
}

// session returns the live session of token, or nil. db.mu is held.
func (s *memStore) session(token string) *memSession {
	ss := s.db.sessions[parley.HashToken(token)]
	if ss == nil || !ss.ExpiresAt.After(memNow()) {
		return nil
	}
	return ss
}

func (s *memStore) Session(ctx context.Context, token string) (*parley.Session, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ss := s.session(token)
	if ss == nil {
		return nil, parley.ErrInvalidSession()
	}
	copy := ss.Session
	if a := s.db.accounts[ss.key]; a != nil && !ss.Guest() {
		copy.Admin = a.Admin
	}
	return &copy, nil
}

func (s *memStore) ExtendSession(ctx context.Context, token string, ttl time.Duration) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	ss := s.session(token)
	if ss == nil {
		return parley.ErrInvalidSession()
	}
	ss.ExpiresAt = memNow().Add(ttl)
	return nil
}

func (s *memStore) EndSession(ctx context.Context, token string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	delete(s.db.sessions, parley.HashToken(token))
	return nil
}

func (s *memStore) CreateAccount(ctx context.Context, a *parley.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.db.claim(a.Name); err != nil {
		return err
	}
	if s.db.bugGuestsIgnoreAccounts && s.db.accounts[s.db.key(a.Name)] != nil {
		return parley.ErrNicknameTaken(a.Name)
	}
	a.CreatedAt = memNow()
	copy := *a
	s.db.accounts[s.db.key(a.Name)] = &copy
	return nil
}

func (s *memStore) Account(ctx context.Context, name string) (*parley.Account, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	a := s.db.accounts[s.db.key(name)]
	if a == nil {
		return nil, parley.ErrNoAccount(name)
	}
	copy := *a
	return &copy, nil
}

func (s *memStore) HasAccounts(ctx context.Context) (bool, error) {
	unlock, err := s.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	return len(s.db.accounts) > 0, nil
}

func (s *memStore) UpdateAccount(ctx context.Context, name string, u parley.AccountUpdate) ([]string, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	key := s.db.key(name)
	a := s.db.accounts[key]
	if a == nil {
		return nil, parley.ErrNoAccount(name)
	}
	if u.DisplayName != nil {
		a.DisplayName = *u.DisplayName
	}
	if u.Admin != nil {
		a.Admin = *u.Admin
	}
	end := false
	if u.PasswordHash != nil {
		a.PasswordHash, end = *u.PasswordHash, true
	}
	if u.Active != nil {
		if *u.Active {
			a.Deactivated = time.Time{}
		} else {
			if a.Deactivated.IsZero() {
				a.Deactivated = memNow()
			}
			end = true
		}
	}
	ended := []string{}
	if end && !s.db.bugKeepSessions {
		for id, ss := range s.db.sessions {
			if ss.key == key && !ss.Guest() && id != u.Keep {
				delete(s.db.sessions, id)
				if ss.ExpiresAt.After(memNow()) {
					ended = append(ended, id)
				}
			}
		}
	}
	return ended, nil
}

func (s *memStore) CreateAccountSession(ctx context.Context, name string, kind parley.SessionKind, label string, ttl time.Duration) (string, error) {
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	a := s.db.accounts[s.db.key(name)]
	if a == nil || (!a.Deactivated.IsZero() && !s.db.bugDeactivatedSignIn) {
		return "", parley.ErrNoAccount(name)
	}
	return s.db.addSession(a.Name, kind, parley.SessionLabel(label), ttl), nil
}

func (s *memStore) AccountSessions(ctx context.Context, name string) ([]*parley.Session, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	key := s.db.key(name)
	var list []*parley.Session
	for _, ss := range s.db.sessions {
		if ss.key == key && !ss.Guest() && ss.ExpiresAt.After(memNow()) {
			copy := ss.Session
			list = append(list, &copy)
		}
	}
	slices.SortFunc(list, func(a, b *parley.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return list, nil
}

func (s *memStore) EndAccountSession(ctx context.Context, name, id string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	ss := s.db.sessions[id]
	if ss == nil || ss.Guest() || (ss.key != s.db.key(name) && !s.db.bugEndAnySession) || !ss.ExpiresAt.After(memNow()) {
		return parley.Errorf(parley.NotFound, "There is no such session.")
	}
	delete(s.db.sessions, id)
	return nil
}

func (s *memStore) CreateRoom(ctx context.Context, r *parley.Room, members []string) error {
	switch {
	case r.Kind == parley.RoomPrivate && (!strings.HasPrefix(r.Name, "~") || r.Owner == ""),
		r.Kind == parley.RoomDirect && !strings.HasPrefix(r.Name, "@"),
		r.Kind != parley.RoomPrivate && r.Kind != parley.RoomDirect:
		return parley.Errorf(parley.Invalid, "Not a private or direct room: %+v.", r)
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if s.db.rooms[r.Name] != nil && !s.db.bugRoomsTwice {
		return parley.CodeErrorf(parley.Conflict, "room_exists", "The room exists.")
	}
	access := map[string]parley.RoomMember{}
	add := func(name string, role parley.Role) (string, error) {
		a := s.db.accounts[s.db.key(name)]
		if s.db.bugAnyoneInRooms && a == nil {
			a = &parley.Account{Name: name}
		}
		if a == nil || !a.Deactivated.IsZero() {
			return "", parley.ErrNoAccount(name)
		}
		access[s.db.key(name)] = parley.RoomMember{Room: r.Name, Name: a.Name, Role: role}
		return a.Name, nil
	}
	if r.Owner != "" {
		if r.Owner, err = add(r.Owner, parley.RoleOwner); err != nil {
			return err
		}
	}
	for i, m := range members {
		if _, ok := access[s.db.key(m)]; ok {
			continue
		}
		if members[i], err = add(m, parley.RoleMember); err != nil {
			return err
		}
	}
	room := s.db.addRoom(r.Name)
	r.CreatedAt = room.room.CreatedAt
	room.room = *r
	if old := s.db.deleted[r.Name]; old != nil && s.db.bugDeleteKeepsAccess {
		for k, m := range old.access {
			access[k] = m
		}
	}
	room.access = access
	return nil
}

func (s *memStore) Role(ctx context.Context, room, name string) (parley.Role, error) {
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return "", err
	}
	return r.access[s.db.key(name)].Role, nil
}

func (s *memStore) SetRole(ctx context.Context, room, name string, role parley.Role) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return err
	}
	key := s.db.key(name)
	if r.room.Kind != parley.RoomPrivate || (role != "" && role != parley.RoleMember) || (r.access[key].Role == parley.RoleOwner && !s.db.bugOwnerRemovable) {
		return parley.Errorf(parley.Invalid, "Only members of private rooms come and go.")
	}
	if role == "" {
		delete(r.access, key)
		return nil
	}
	a := s.db.accounts[key]
	if a == nil || !a.Deactivated.IsZero() {
		return parley.ErrNoAccount(name)
	}
	r.access[key] = parley.RoomMember{Room: room, Name: a.Name, Role: role}
	return nil
}

func (s *memStore) RoomMembers(ctx context.Context, room string) ([]parley.RoomMember, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return nil, err
	}
	members := []parley.RoomMember{}
	for _, key := range slices.Sorted(maps.Keys(r.access)) {
		members = append(members, r.access[key])
	}
	return members, nil
}

func (s *memStore) VisibleRooms(ctx context.Context, viewer, after string, limit int) ([]*parley.Room, error) {
	all, err := s.Rooms(ctx, after, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	rooms := []*parley.Room{}
	for _, r := range all {
		if m := s.db.rooms[r.Name]; m == nil {
			continue // deleted meanwhile
		}
		if _, member := s.db.rooms[r.Name].access[s.db.key(viewer)]; r.Kind == parley.RoomPublic || (viewer != "" && member) || s.db.bugEveryoneSees {
			rooms = append(rooms, r)
		}
		if len(rooms) == limit {
			break
		}
	}
	return rooms, nil
}

func (s *memStore) UpdateRoom(ctx context.Context, room string, u parley.RoomUpdate) error {
	if err := u.Validate(); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return err
	}
	if u.Title != nil {
		r.room.Title = *u.Title
	}
	if u.Archived != nil && *u.Archived && room == parley.DefaultRoom {
		return parley.ErrDefaultRoom()
	}
	if u.Topic != nil {
		r.room.Topic = *u.Topic
	}
	if u.Description != nil {
		r.room.Description = *u.Description
	}
	if u.Archived != nil {
		switch {
		case !*u.Archived:
			r.room.ArchivedAt = nil
		case r.room.ArchivedAt == nil || s.db.bugRearchiveRestamps:
			at := memNow()
			r.room.ArchivedAt = &at
		}
	}
	return nil
}

func (s *memStore) DeleteRoom(ctx context.Context, room string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.room(room); err != nil {
		return err
	}
	if room == parley.DefaultRoom && !s.db.bugDeleteDefault {
		return parley.ErrDefaultRoom()
	}
	s.db.deleted[room] = s.db.rooms[room]
	delete(s.db.rooms, room)
	for m := range s.db.members {
		if m.Room == room {
			delete(s.db.members, m)
		}
	}
	if !s.db.bugDeleteKeepsMarkers {
		for k := range s.db.markers {
			if k[1] == room {
				delete(s.db.markers, k)
			}
		}
	}
	return nil
}

func (s *memStore) MarkRead(ctx context.Context, room, nick string, seq int64) error {
	if err := parley.ValidateNick(nick); err != nil {
		return err
	}
	if err := parley.ValidateReadSeq(seq); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := s.room(room)
	if err != nil {
		return err
	}
	if seq > r.room.LastSeq && !s.db.bugMarkBeyondLog {
		return parley.ErrReadBeyondLog(room, seq, r.room.LastSeq)
	}
	k := [2]string{s.db.markerKey(nick), room}
	if seq > s.db.markers[k] || (s.db.bugMarkersMoveBack && seq > 0) {
		s.db.markers[k] = seq
	}
	return nil
}

// markerKey returns the key of nick's markers: parley.NickKey, unless a bug
// says otherwise.
func (db *memDB) markerKey(nick string) string {
	if db.bugMarkersByName {
		return nick
	}
	return parley.NickKey(nick)
}

func (s *memStore) ReadMarker(ctx context.Context, room, nick string) (int64, error) {
	unlock, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	return s.db.markers[[2]string{s.db.markerKey(nick), room}], nil
}

func (s *memStore) ReadMarkers(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	key := s.db.markerKey(nick)
	markers := []parley.ReadMarker{}
	for k, seq := range s.db.markers {
		if k[0] == key && k[1] > after {
			markers = append(markers, parley.ReadMarker{Room: k[1], Seq: seq})
		}
	}
	slices.SortFunc(markers, func(a, b parley.ReadMarker) int { return strings.Compare(a.Room, b.Room) })
	return markers[:min(len(markers), limit)], nil
}
