// Package web serves Parley's browser client. The client is an ordinary
// Vite + React + TypeScript project in this directory; `npm run build` writes
// it to dist/, which this package embeds, so the parley binary carries its
// own UI. Package httpapi mounts [Handler] under every path that is not part
// of the API or the WebSocket endpoint.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the built client. The all: prefix includes dist/.gitkeep, which
// is committed so that the package builds before the first UI build.
//
//go:embed all:dist
var dist embed.FS

// Handler serves the built UI. Paths that name no file get index.html, so
// that client-side routes survive a reload; files under /assets/, whose
// names carry a hash of their content, are cached for a year, and everything
// else is revalidated on every use. When the UI has not been built, every
// page is a short notice saying how to build it and how to connect without
// it. Only GET and HEAD are allowed.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: " + err.Error()) // cannot happen: dist is embedded
	}
	h, err := newHandler(sub)
	if err != nil {
		panic("web: " + err.Error()) // cannot happen: reading embedded files does not fail
	}
	return h
}

// file is one file of the UI, read once when the handler is made.
type file struct {
	name string // for the Content-Type, chosen by extension
	data []byte
	etag string
}

func newFile(name string, data []byte) *file {
	sum := sha256.Sum256(data)
	return &file{
		name: name,
		data: data,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
	}
}

// handler serves the files of a built UI from memory. It holds no mutable
// state, so it is safe for concurrent use.
type handler struct {
	files  map[string]*file // by slash-separated path without a leading slash
	index  *file            // index.html, or the notice when the UI is not built
	notice *file            // the notice, when the UI is not built
}

// newHandler reads every file of fsys, the root of a UI build.
func newHandler(fsys fs.FS) (*handler, error) {
	h := &handler{files: make(map[string]*file)}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil // never serve dot files such as .gitkeep
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		h.files[name] = newFile(name, data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.index = h.files["index.html"]
	if h.index == nil {
		h.notice = newFile("index.html", []byte(notBuiltPage))
		h.index = h.notice
	}
	return h, nil
}

// immutable is the Cache-Control of files whose name changes with their
// content, as Vite names everything it writes under assets/.
const immutable = "public, max-age=31536000, immutable"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	asset := strings.HasPrefix(name, "assets/")
	f, ok := h.files[name]
	switch {
	case ok && asset:
		w.Header().Set("Cache-Control", immutable)
	case asset:
		// A missing hashed asset is an old page asking for a file that a
		// newer build replaced. index.html in its place would be parsed as
		// script or CSS and fail in a confusing way.
		w.Header().Set("Cache-Control", "no-cache")
		http.NotFound(w, r)
		return
	case ok:
		w.Header().Set("Cache-Control", "no-cache")
	default:
		f = h.index
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", f.etag)
	setSecurityHeaders(w.Header(), f == h.notice)
	// ServeContent answers If-None-Match with 304 thanks to the ETag, sets
	// Content-Type from the name's extension, and handles HEAD and ranges.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}

// contentSecurityPolicy lets a page of the UI load scripts, styles, images
// and fonts from this server only, and talk to this server only (the REST
// API and the WebSocket: 'self' covers ws: and wss: to the same host). No
// inline script, no plugins, and no page of another site may frame it.
// Styles the client sets through the DOM, as React does, are not inline
// styles to CSP.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// noticePolicy is the policy of the page shown when the UI is not built:
// no script at all, and its one inline style block, by hash.
var noticePolicy = func() string {
	_, style, _ := strings.Cut(notBuiltPage, "<style>")
	style, _, _ = strings.Cut(style, "</style>")
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// setSecurityHeaders sets the headers that keep the UI's pages from being
// framed, sniffed, or leaking their addresses to other sites.
func setSecurityHeaders(h http.Header, notice bool) {
	if notice {
		h.Set("Content-Security-Policy", noticePolicy)
	} else {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// notBuiltPage is what / shows when the binary was built without the UI.
const notBuiltPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
code, pre { font: 14px/1.4 ui-monospace, monospace; background: #f3f3f3; }
code { padding: 0 .2em; }
pre { padding: .75rem; overflow-x: auto; }
</style>
</head>
<body>
<h1>Parley is running</h1>
<p>The server is up, but this binary was built without the web client.
To build the client and start the server with it, run <code>make run</code>
in the source tree (it needs Node.js and npm).</p>
<h2>Connecting without the web client</h2>
<ul>
<li>WebSocket: <code>/ws</code> on this host. The protocol is described in
<code>docs/PROTOCOL.md</code> in the source tree.</li>
<li>REST: <a href="/api/health"><code>/api/health</code></a> says the server is alive;
<a href="/api/rooms"><code>/api/rooms</code></a> lists the rooms, and
<code>/api/rooms/{room}/messages</code> returns a room's history.</li>
</ul>
<p>A first session over the WebSocket, one JSON frame per message:</p>
<pre>{"type":"hello","v":1,"nick":"ana"}
{"type":"join","room":"general","since":0}
{"type":"send","room":"general","clientId":"a-1","text":"Hello, world"}</pre>
</body>
</html>
`
