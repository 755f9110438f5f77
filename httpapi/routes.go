package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// addRoutes lists the whole HTTP surface in one place.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, store parley.Store, h *hub.Hub, ui http.Handler, opts Options) {
	get(mux, "/api/health", handleHealth())
	get(mux, "/api/ready", handleReady(logger, store, opts.Ready))
	get(mux, "/api/rooms", handleListRooms(logger, store, h))
	get(mux, "/api/rooms/{room}/messages", handleListEntries(logger, store, ""))
	get(mux, "/api/history", handleListEntries(logger, store, parley.DefaultRoom))
	get(mux, "/ws", handleSocket(logger, store, h, &opts))
	if opts.Metrics != nil {
		get(mux, "/metrics", opts.Metrics)
	} else {
		get(mux, "/metrics", handleNotFound())
	}
	mux.Handle("/api/", handleNotFound())
	mux.Handle("/", ui)
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
