package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// The REST API of rooms beyond their logs: making private rooms and direct
// conversations, a room's texts, and who may see a private room. A room
// that the request's session may not see answers 404 not_found, exactly as
// one that does not exist.

// viewer returns the name of the request's person, or "" for a request
// without a session; a session that is presented must be valid.
func (a *auth) viewer(r *http.Request) (string, error) {
	token, _ := requestToken(r)
	if token == "" {
		return "", nil
	}
	s, err := a.session(r.Context(), token)
	if err != nil {
		return "", err
	}
	return s.Nick, nil
}

// access returns the room named name and what viewer is in it, or
// ErrNoRoom when viewer may not see it.
func (a *auth) access(r *http.Request, name, viewer string) (*parley.Room, parley.Role, error) {
	room, err := a.store.Room(r.Context(), name)
	if err != nil {
		return nil, "", err
	}
	if room.Kind == parley.RoomPublic || room.Kind == "" {
		return room, "", nil
	}
	if viewer == "" {
		return nil, "", parley.ErrNoRoom(name)
	}
	role, err := a.store.Role(r.Context(), name, viewer)
	if err != nil {
		return nil, "", err
	}
	if role == "" {
		return nil, "", parley.ErrNoRoom(name)
	}
	return room, role, nil
}

// maySee returns ErrNoRoom unless the request's person may see the room
// named name. An unknown session is refused (401) only for a room that is
// not public, so that a stale cookie does not hide public history.
func (a *auth) maySee(r *http.Request, name string) error {
	viewer, err := a.viewer(r)
	if err != nil {
		room, rerr := a.store.Room(r.Context(), name)
		if rerr == nil && room.Kind != parley.RoomPrivate && room.Kind != parley.RoomDirect {
			return nil
		}
		return parley.ErrNoRoom(name)
	}
	_, _, err = a.access(r, name, viewer)
	return err
}

// roomView is a room as the API shows it.
type roomView struct {
	*parley.Room
	Role parley.Role `json:"role,omitempty"` // the viewer's, in a private or direct room
}

// handleRoom answers a room that the request's person may see.
func (a *auth) handleRoom() http.Handler {
	return a.public(func(w http.ResponseWriter, r *http.Request) {
		viewer, err := a.viewer(r)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		room, role, err := a.access(r, r.PathValue("room"), viewer)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		encode(w, http.StatusOK, roomView{room, role})
	})
}

// handleCreateRoom makes a public room (by its name) or a private one (the
// server names it; the maker is its owner, and needs an account).
func (a *auth) handleCreateRoom() http.Handler {
	type request struct {
		Kind        parley.RoomKind `json:"kind"`
		Name        string          `json:"name"`
		Title       string          `json:"title"`
		Topic       string          `json:"topic"`
		Description string          `json:"description"`
		Members     []string        `json:"members"`
	}
	return a.need(true, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		ctx := r.Context()
		switch req.Kind {
		case parley.RoomPublic, "":
			if err := parley.ValidatePublicRoomName(req.Name); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
			u := parley.RoomUpdate{Title: &req.Title, Topic: &req.Topic, Description: &req.Description}
			if err := u.Validate(); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
			if _, err := a.store.Room(ctx, req.Name); err == nil {
				writeError(w, r, a.logger, parley.CodeErrorf(parley.Conflict, parley.CodeRoomExists, "The room %q exists; join it.", req.Name))
				return
			}
			if err := a.limits.room(ctx, ClientAddr(r), s.Nick); err != nil {
				writeLimited(w, r, a.logger, err)
				return
			}
			if _, err := a.store.EnsureRoom(ctx, req.Name); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
			if req.Topic != "" || req.Description != "" {
				u = parley.RoomUpdate{Topic: &req.Topic, Description: &req.Description}
				if err := a.store.UpdateRoom(ctx, req.Name, u); err != nil {
					writeError(w, r, a.logger, err)
					return
				}
			}
			room, err := a.store.Room(ctx, req.Name)
			if err != nil {
				writeError(w, r, a.logger, err)
				return
			}
			encode(w, http.StatusCreated, roomView{Room: room})
		case parley.RoomPrivate:
			if s.Guest() {
				writeError(w, r, a.logger, parley.CodeErrorf(parley.Forbidden, codeAccountRequired, "Guests cannot make private rooms; sign in with an account."))
				return
			}
			if err := a.limits.room(ctx, ClientAddr(r), s.Nick); err != nil {
				writeLimited(w, r, a.logger, err)
				return
			}
			room := &parley.Room{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate, Title: req.Title, Topic: req.Topic, Description: req.Description, Owner: s.Nick}
			if err := a.store.CreateRoom(ctx, room, req.Members); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
			a.tellRoom(r, room.Name, s.Nick, req.Members...)
			encode(w, http.StatusCreated, roomView{room, parley.RoleOwner})
		default:
			writeError(w, r, a.logger, parley.Errorf(parley.Invalid, "kind must be public or private; direct conversations are made with POST /api/direct."))
		}
	})
}

// handleDirect returns the direct room of the request's person and the
// people named, making it when it does not exist yet.
func (a *auth) handleDirect() http.Handler {
	type request struct {
		Names []string `json:"names"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		people := append([]string{s.Nick}, req.Names...)
		name, err := parley.DirectRoomName(people)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		// Only a conversation that is new counts against the limit on
		// new rooms.
		if _, err := a.store.Room(r.Context(), name); parley.KindOf(err) == parley.NotFound {
			if err := a.limits.room(r.Context(), ClientAddr(r), s.Nick); err != nil {
				writeLimited(w, r, a.logger, err)
				return
			}
		}
		status := http.StatusCreated
		room := &parley.Room{Name: name, Kind: parley.RoomDirect}
		err = a.store.CreateRoom(r.Context(), room, people)
		if parley.KindOf(err) == parley.Conflict {
			status, err = http.StatusOK, nil
			room, err = a.store.Room(r.Context(), name)
		}
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if status == http.StatusCreated {
			a.tellRoom(r, name, s.Nick, people...)
		}
		encode(w, status, roomView{room, parley.RoleMember})
	})
}

// mayManage reports whether the session may change the room named name:
// a private room's owner or an admin; a direct room's members; a public
// room's admins. To one who may not see the room, it does not exist.
func (a *auth) mayManage(r *http.Request, name string, s signedIn) (*parley.Room, error) {
	room, role, err := a.access(r, name, s.Nick)
	if parley.KindOf(err) == parley.NotFound && s.Admin {
		// Admins manage private rooms they are not in, by name.
		if room, err = a.store.Room(r.Context(), name); err == nil && room.Kind != parley.RoomPrivate {
			err = parley.ErrNoRoom(name)
		}
		return room, err
	}
	if err != nil {
		return nil, err
	}
	switch {
	case s.Admin, role == parley.RoleOwner, room.Kind == parley.RoomDirect:
		return room, nil
	}
	return nil, parley.Errorf(parley.Forbidden, "Only the room's owner or an admin may change it.")
}

// handleUpdateRoom changes a room's title or topic, or archives it or
// brings it back.
func (a *auth) handleUpdateRoom() http.Handler {
	type request struct {
		Title       *string `json:"title"`
		Topic       *string `json:"topic"`
		Description *string `json:"description"`
		Archived    *bool   `json:"archived"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		name := r.PathValue("room")
		room, err := a.mayManage(r, name, s)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if req.Title != nil && room.Kind != parley.RoomPrivate {
			writeError(w, r, a.logger, parley.Errorf(parley.Invalid, "Only a private room has a title; a public room's name is its title."))
			return
		}
		if req.Archived != nil {
			if err := mayArchive(room); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
		}
		if err := a.store.UpdateRoom(r.Context(), name, parley.RoomUpdate{Title: req.Title, Topic: req.Topic, Description: req.Description, Archived: req.Archived}); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		room, err = a.store.Room(r.Context(), name)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		encode(w, http.StatusOK, roomView{Room: room})
	})
}

// handleRoomMembers lists who may see a private or direct room (none for
// a public room).
func (a *auth) handleRoomMembers() http.Handler {
	type response struct {
		Members []parley.RoomMember `json:"members"`
	}
	return a.public(func(w http.ResponseWriter, r *http.Request) {
		viewer, err := a.viewer(r)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		name := r.PathValue("room")
		if _, _, err := a.access(r, name, viewer); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		members, err := a.store.RoomMembers(r.Context(), name)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		encode(w, http.StatusOK, response{members})
	})
}

// handleAddMember adds an account to a private room.
func (a *auth) handleAddMember() http.Handler {
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		name := r.PathValue("room")
		if _, err := a.mayManage(r, name, s); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := a.store.SetRole(r.Context(), name, r.PathValue("name"), parley.RoleMember); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.tellRoom(r, name, s.Nick, r.PathValue("name"))
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRemoveMember removes someone from a private room (or oneself:
// leaving it), and closes them out of it on every replica.
func (a *auth) handleRemoveMember() http.Handler {
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		name, who := r.PathValue("room"), r.PathValue("name")
		self := parley.NickKey(who) == parley.NickKey(s.Nick)
		if _, _, err := a.access(r, name, s.Nick); !self || err != nil {
			if _, err := a.mayManage(r, name, s); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
		}
		if err := a.store.SetRole(r.Context(), name, who, ""); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := a.hub.Evict(r.Context(), name, who); err != nil {
			a.logger.Warn("tell other replicas of a removal", "room", name, "err", err)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// mayArchive refuses to archive or delete room when it is a direct
// conversation, which belongs to all its people alike, or the default
// room, which always takes messages. Whoever may change the room
// (mayManage) may archive or delete it otherwise.
func mayArchive(room *parley.Room) error {
	switch {
	case room.Kind == parley.RoomDirect:
		return parley.Errorf(parley.Invalid, "A direct conversation cannot be archived or deleted.")
	case room.Name == parley.DefaultRoom:
		return parley.ErrDefaultRoom()
	}
	return nil
}

// handleDeleteRoom deletes a room with its history, members and read
// markers, and closes everyone out of it on every replica (close code
// 4003). The name may be used again: a room made under it starts afresh.
func (a *auth) handleDeleteRoom() http.Handler {
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		name := r.PathValue("room")
		room, err := a.mayManage(r, name, s)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := mayArchive(room); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := a.store.DeleteRoom(r.Context(), name); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.logger.Info("room deleted", "room", name, "by", s.Nick)
		if err := a.hub.CloseRoom(r.Context(), name); err != nil {
			a.logger.Warn("tell other replicas of a deleted room", "room", name, "err", err)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// tellRoom tells the people named, on every replica, that they may now see
// the room named room (protocol.Rooms), but not by, who made the change
// and knows.
func (a *auth) tellRoom(r *http.Request, room, by string, people ...string) {
	for _, name := range people {
		if parley.NickKey(name) == parley.NickKey(by) {
			continue
		}
		if err := a.hub.Notify(r.Context(), name, protocol.Rooms(room)); err != nil {
			a.logger.Warn("tell other replicas of a room", "room", room, "err", err)
		}
	}
}
