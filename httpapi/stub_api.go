// Package httpapi serves Parley's REST API and WebSocket endpoint.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// Options tune the HTTP surface.
type Options struct {
	// AllowedOrigins lists extra origins (scheme://host[:port]) whose pages
	// may open the WebSocket; the server's own origin is always allowed.
	AllowedOrigins []string
}

// NewServer returns the handler for the whole HTTP surface: /api, /ws, and
// ui for everything else.
func NewServer(logger *slog.Logger, store parley.Store, h *hub.Hub, ui http.Handler, opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", ui)
	return mux
}
