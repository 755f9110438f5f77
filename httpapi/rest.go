package httpapi

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReady says whether the store, and every part that ready names,
// answer, each within two seconds; all are asked at once. A 503 names the
// parts that do not answer.
func handleReady(logger *slog.Logger, store parley.Store, ready map[string]func(context.Context) error) http.Handler {
	checks := maps.Clone(ready)
	if checks == nil {
		checks = make(map[string]func(context.Context) error)
	}
	checks["store"] = store.Ping
	names := slices.Sorted(maps.Keys(checks))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() { errs[i] = checks[name](ctx) })
		}
		wg.Wait()
		var down []string
		for i, err := range errs {
			if err != nil {
				logger.Warn("not ready", "part", names[i], "err", err)
				down = append(down, names[i])
			}
		}
		switch len(down) {
		case 0:
			encode(w, http.StatusOK, map[string]string{"status": "ready"})
		case 1:
			writeError(w, r, logger, parley.Errorf(parley.Unavailable, "Not ready: %s does not answer.", down[0]))
		default:
			writeError(w, r, logger, parley.Errorf(parley.Unavailable, "Not ready: %s do not answer.", strings.Join(down, ", ")))
		}
	})
}

// handleListRooms serves a page of the rooms that the request's session
// may see: the public rooms, and the private and direct rooms it is a
// member of; without a session, the public rooms.
func (a *auth) handleListRooms(logger *slog.Logger, store parley.Store, h *hub.Hub) http.Handler {
	type room struct {
		*parley.Room
		Online int `json:"online"`
	}
	type response struct {
		Rooms []room `json:"rooms"`
		// Next, when set, is the after of the next page: there may be more.
		Next string `json:"next,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := parseLimit(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		viewer, err := a.viewer(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		rooms, err := store.VisibleRooms(r.Context(), viewer, r.URL.Query().Get("after"), limit)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp := response{Rooms: make([]room, len(rooms))}
		for i, rm := range rooms {
			resp.Rooms[i] = room{rm, h.Online(r.Context(), rm.Name)}
		}
		if len(rooms) == limit {
			resp.Next = rooms[len(rooms)-1].Name
		}
		encode(w, http.StatusOK, resp)
	})
}

// handleReadMarkers serves a page of the read markers of the person the
// request speaks for, guest or not.
func (a *auth) handleReadMarkers() http.Handler {
	type response struct {
		Markers []parley.ReadMarker `json:"markers"`
		// Next, when set, is the after of the next page: there may be more.
		Next string `json:"next,omitempty"`
	}
	return a.need(true, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		limit, err := parseLimit(r)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		markers, err := a.store.ReadMarkers(r.Context(), s.Nick, r.URL.Query().Get("after"), limit)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		resp := response{Markers: markers}
		if len(markers) == limit {
			resp.Next = markers[len(markers)-1].Room
		}
		encode(w, http.StatusOK, resp)
	})
}

// handleListEntries serves a page of a room's log: the room named in the
// path, or fixed when fixed is not empty. A private or direct room's log
// is served only to its members; to anyone else the room does not exist.
func (a *auth) handleListEntries(logger *slog.Logger, store parley.Store, fixed string) http.Handler {
	type response struct {
		Room    string          `json:"room"`
		Entries []*parley.Entry `json:"entries"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		room := fixed
		if room == "" {
			room = r.PathValue("room")
		}
		page, err := parsePage(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if err := a.maySee(r, room); err != nil {
			writeError(w, r, logger, err)
			return
		}
		var entries []*parley.Entry
		if page.Before == 0 && r.URL.Query().Get("before") != "" {
			// No entry is below 0. (In a parley.Page, Before 0 means no
			// bound.) The room must exist all the same.
			_, err = store.Room(r.Context(), room)
		} else {
			entries, err = store.Entries(r.Context(), room, page)
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if entries == nil {
			entries = []*parley.Entry{}
		}
		encode(w, http.StatusOK, response{Room: room, Entries: entries})
	})
}

// parsePage reads limit, before and after from the query string.
func parsePage(r *http.Request) (parley.Page, error) {
	q := r.URL.Query()
	p := parley.Page{Limit: parley.DefaultPageSize}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"before", &p.Before}, {"after", &p.After}} {
		if s := q.Get(f.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return p, parley.CodeErrorf(parley.Invalid, parley.CodeInvalidPage, "%s must be a whole number.", f.name)
			}
			*f.dst = n
		}
	}
	// Given after, even after=0, the page catches up from it.
	p.Oldest = q.Has("after")
	var err error
	if p.Limit, err = parseLimit(r); err != nil {
		return p, err
	}
	return p, p.Validate()
}

// parseLimit reads limit from the query string: parley.DefaultPageSize
// when it is not there.
func parseLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return parley.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, parley.CodeErrorf(parley.Invalid, parley.CodeInvalidPage, "limit must be a whole number.")
	}
	return n, nil
}

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "There is no API endpoint at "+r.URL.Path+".")
	})
}
