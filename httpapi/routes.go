package httpapi

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// addRoutes lists the whole HTTP surface in one place.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, store parley.Store, h *hub.Hub, ui http.Handler, opts Options) {
	a := newAuth(logger, store, h, &opts)
	get(mux, "/api/health", handleHealth())
	get(mux, "/api/ready", handleReady(logger, store, opts.Ready))
	methods(mux, "/api/rooms", map[string]http.Handler{"GET": a.handleListRooms(logger, store, h), "POST": a.handleCreateRoom()})
	methods(mux, "/api/rooms/{room}", map[string]http.Handler{"GET": a.handleRoom(), "PATCH": a.handleUpdateRoom(), "DELETE": a.handleDeleteRoom()})
	get(mux, "/api/rooms/{room}/messages", a.handleListEntries(logger, store, ""))
	get(mux, "/api/rooms/{room}/members", a.handleRoomMembers())
	methods(mux, "/api/rooms/{room}/members/{name}", map[string]http.Handler{"PUT": a.handleAddMember(), "DELETE": a.handleRemoveMember()})
	methods(mux, "/api/direct", map[string]http.Handler{"POST": a.handleDirect()})
	get(mux, "/api/history", a.handleListEntries(logger, store, parley.DefaultRoom))
	get(mux, "/api/read-markers", a.handleReadMarkers())
	get(mux, "/api/server", a.handleServerInfo())
	methods(mux, "/api/accounts", map[string]http.Handler{"POST": a.handleSignUp()})
	methods(mux, "/api/accounts/{name}", map[string]http.Handler{"PATCH": a.handleAdminUpdate()})
	methods(mux, "/api/account", map[string]http.Handler{"GET": a.handleMe(), "PATCH": a.handleUpdateMe()})
	methods(mux, "/api/account/password", map[string]http.Handler{"POST": a.handleChangePassword()})
	methods(mux, "/api/sessions", map[string]http.Handler{"GET": a.handleListSessions(), "POST": a.handleSignIn()})
	methods(mux, "/api/sessions/{id}", map[string]http.Handler{"DELETE": a.handleEndSession()})
	methods(mux, "/api/tokens", map[string]http.Handler{"POST": a.handleCreateToken()})
	get(mux, "/ws", handleSocket(logger, a, h, &opts))
	if opts.Metrics != nil {
		get(mux, "/metrics", opts.Metrics)
	} else {
		get(mux, "/metrics", handleNotFound())
	}
	mux.Handle("/api/", handleNotFound())
	mux.Handle("/", ui)
}

// methods routes requests for pattern by method, and answers other methods
// with a JSON 405 that lists the allowed ones. GET allows HEAD too.
func methods(mux *http.ServeMux, pattern string, handlers map[string]http.Handler) {
	var allowed []string
	for method, handler := range handlers {
		mux.Handle(method+" "+pattern, handler)
		allowed = append(allowed, method)
		if method == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	slices.Sort(allowed)
	allow := strings.Join(allowed, ", ")
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			"Method "+r.Method+" is not allowed here; use "+allow+".")
	}))
}

// get routes GET (and so HEAD) requests for pattern to handler, and answers
// other methods with a JSON 405 rather than ServeMux's plain text.
func get(mux *http.ServeMux, pattern string, handler http.Handler) {
	mux.Handle("GET "+pattern, handler)
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			"Method "+r.Method+" is not allowed here; use GET.")
	}))
}
