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
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// dist holds the built client. The all: prefix includes dist/.gitkeep, which
// is committed so that the package builds before the first UI build.
//
//go:embed all:dist
var dist embed.FS

// Handler serves the built UI. Paths that name no file get index.html, so
// that client-side routes survive a reload, except paths whose last segment
// looks like a file name (it ends in an extension with a letter, such as
// .png or .txt): those answer 404, as does a missing file under /assets/.
// Files under /assets/, whose names carry a hash of their content, are
// cached for a year, and everything else is revalidated on every use. A
// file that the build precompressed (name.br and name.gz beside it) is sent
// in the best encoding the request's Accept-Encoding allows: brotli, then
// gzip, then as it is. When the UI has not been built, every page is a
// short notice saying how to build it and how to connect without it. Only
// GET and HEAD are allowed.
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

// file is one file of the UI, read once when the handler is made, with the
// forms of it that the build compressed.
type file struct {
	name string // for the Content-Type, chosen by extension
	data []byte
	etag string
	br   *encoded // nil when the build wrote no name.br
	gzip *encoded // nil when the build wrote no name.gz
}

// encoded is a file's content in one Content-Encoding.
type encoded struct {
	data []byte
	etag string // differs from the file's: a cache must not mix the two
}

func newFile(name string, data []byte) *file {
	return &file{name: name, data: data, etag: etagOf(data)}
}

func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// encodings maps the suffix of a precompressed file to its Content-Encoding.
var encodings = map[string]string{".br": "br", ".gz": "gzip"}

// handler serves the files of a built UI from memory. It holds no mutable
// state, so it is safe for concurrent use.
type handler struct {
	files  map[string]*file // by slash-separated path without a leading slash
	index  *file            // index.html, or the notice when the UI is not built
	notice *file            // the notice, when the UI is not built
}

// newHandler reads every file of fsys, the root of a UI build. A file
// name.br or name.gz beside a file name is that file compressed, and is
// served only in its place.
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
	for name, f := range h.files {
		ext := path.Ext(name)
		coding, ok := encodings[ext]
		if !ok {
			continue
		}
		orig := h.files[strings.TrimSuffix(name, ext)]
		if orig == nil {
			continue // a file of its own that happens to end in .gz
		}
		e := &encoded{data: f.data, etag: etagOf(f.data)}
		if coding == "br" {
			orig.br = e
		} else {
			orig.gzip = e
		}
		delete(h.files, name)
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

// contentTypes are the types of the files a build holds whose extension Go
// does not know by itself (the final image has no /etc/mime.types).
var contentTypes = map[string]string{
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".webmanifest": "application/manifest+json",
}

func contentType(name string) string {
	ext := path.Ext(name)
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	return mime.TypeByExtension(ext)
}

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
	case ok:
		w.Header().Set("Cache-Control", "no-cache")
	case asset || isFileName(path.Base(name)):
		// A missing hashed asset is an old page asking for a file that a
		// newer build replaced; any other name with an extension is a file
		// that is not there. index.html in its place would be parsed as
		// script, CSS, an image or a manifest and fail in a confusing way.
		w.Header().Set("Cache-Control", "no-cache")
		setSecurityHeaders(w.Header(), false)
		notFound(w, r)
		return
	default:
		f = h.index
		w.Header().Set("Cache-Control", "no-cache")
	}
	setSecurityHeaders(w.Header(), f == h.notice)
	if t := contentType(f.name); t != "" {
		w.Header().Set("Content-Type", t)
	}
	data, etag := f.data, f.etag
	if f.br != nil || f.gzip != nil {
		// Caches keep one copy per encoding the client accepts.
		w.Header().Add("Vary", "Accept-Encoding")
		// A range is served from the file as it is, so that it addresses
		// the file's own bytes (browsers ask for ranges of media, which is
		// never compressed, and to resume downloads).
		coding, e := f.encoding(r.Header.Values("Accept-Encoding"))
		if e != nil && r.Header.Get("Range") == "" {
			w.Header().Set("Content-Encoding", coding)
			data, etag = e.data, e.etag
			// ServeContent leaves Content-Length out when there is a
			// Content-Encoding, expecting a handler that compresses as it
			// writes; this one knows the length.
			w = lengthWriter{w, len(data)}
		}
	}
	w.Header().Set("ETag", etag)
	// ServeContent answers If-None-Match with 304 thanks to the ETag, sets
	// Content-Length, and handles HEAD and ranges.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(data))
}

// lengthWriter sets the Content-Length of a whole response of n bytes.
type lengthWriter struct {
	http.ResponseWriter
	n int
}

func (w lengthWriter) WriteHeader(code int) {
	if code == http.StatusOK {
		w.Header().Set("Content-Length", strconv.Itoa(w.n))
	}
	w.ResponseWriter.WriteHeader(code)
}

// encoding chooses the form of f to send, given the request's
// Accept-Encoding header lines: the accepted encoding with the highest
// q-value among those f has, brotli before gzip when they tie; identity
// when neither is accepted (q=0 refuses one) or identity has a higher
// q-value. It returns "" and nil for the file as it is.
func (f *file) encoding(accept []string) (string, *encoded) {
	q := acceptedEncodings(accept)
	best, bestQ := "", 0.0
	if v, ok := q["identity"]; ok {
		bestQ = v
	}
	for _, c := range []struct {
		coding string
		e      *encoded
	}{{"br", f.br}, {"gzip", f.gzip}} {
		v, ok := q[c.coding]
		if !ok {
			v = q["*"]
		}
		if c.e != nil && v > 0 && (v > bestQ || best == "" && v == bestQ) {
			best, bestQ = c.coding, v
		}
	}
	switch best {
	case "br":
		return best, f.br
	case "gzip":
		return best, f.gzip
	}
	return "", nil
}

// acceptedEncodings parses Accept-Encoding header lines into the q-value of
// each content coding named (lowercase), 1 when none is given. A malformed
// q-value counts as 0: a member the server cannot read is not an invitation.
func acceptedEncodings(lines []string) map[string]float64 {
	q := make(map[string]float64)
	for _, line := range lines {
		for _, member := range strings.Split(line, ",") {
			coding, params, _ := strings.Cut(member, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "" {
				continue
			}
			v := 1.0
			for _, p := range strings.Split(params, ";") {
				key, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(key), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					v = f
				}
			}
			q[coding] = v
		}
	}
	return q
}

// isFileName reports whether base, the last segment of a path, looks like
// the name of a file rather than a route of the client: it has an
// extension of up to 12 letters and digits, at least one a letter
// (favicon.ico, robots.txt, .env), so that a room named v1.2 is not one.
func isFileName(base string) bool {
	ext := path.Ext(base)
	if len(ext) < 2 || len(ext) > 13 {
		return false
	}
	letter := false
	for _, c := range ext[1:] {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return letter
}

// notFound answers 404 with the JSON error body of the rest of the server.
func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	// An error here means the client went away; there is no one to tell.
	_ = json.NewEncoder(w).Encode(struct {
		Error detail `json:"error"`
	}{detail{"not_found", "There is no file at " + r.URL.Path + "."}})
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
