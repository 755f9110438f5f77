package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley"
)

// encode writes v as a JSON response with status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// An error here means the client went away; there is no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// statusOf turns an error kind into an HTTP status code.
var statusOf = map[parley.Kind]int{
	parley.Internal:        http.StatusInternalServerError,
	parley.Invalid:         http.StatusBadRequest,
	parley.NotFound:        http.StatusNotFound,
	parley.Conflict:        http.StatusConflict,
	parley.Unauthenticated: http.StatusUnauthorized,
	parley.Forbidden:       http.StatusForbidden,
	parley.TooMany:         http.StatusTooManyRequests,
	parley.Unavailable:     http.StatusServiceUnavailable,
}

// writeError is the one place where errors become responses. Internal
// errors are logged in full and shown to the user as a generic sentence.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	kind := parley.KindOf(err)
	if kind == parley.Internal {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "client", ClientAddr(r), "err", err)
	}
	writeJSONError(w, statusOf[kind], parley.CodeOf(err), parley.MessageOf(err))
}

// writeJSONError writes the documented error body.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	encode(w, status, struct {
		Error detail `json:"error"`
	}{detail{code, message}})
}
