package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

// get sends one request to h and returns the response with its body read.
func get(t *testing.T, h http.Handler, method, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, target, err)
	}
	return res, string(body)
}

func mustNewHandler(t *testing.T, fsys fstest.MapFS) *handler {
	t.Helper()
	h, err := newHandler(fsys)
	if err != nil {
		t.Fatalf("newHandler() = %v", err)
	}
	return h
}

func TestHandlerBuilt(t *testing.T) {
	const (
		index = `<!doctype html><div id="root"></div><script src="/assets/index-Bx12.js"></script>`
		js    = `console.log("parley")`
	)
	h := mustNewHandler(t, fstest.MapFS{
		".gitkeep":             {},
		"index.html":           {Data: []byte(index)},
		"favicon.svg":          {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"assets/index-Bx12.js": {Data: []byte(js)},
	})

	tests := []struct {
		name        string
		method      string
		target      string
		wantStatus  int
		wantBody    string // exact, when not empty
		wantType    string // prefix of Content-Type, when not empty
		wantCaching string
	}{
		{"root", "GET", "/", 200, index, "text/html", "no-cache"},
		{"index by name", "GET", "/index.html", 200, index, "text/html", "no-cache"},
		{"client route", "GET", "/rooms/general", 200, index, "text/html", "no-cache"},
		{"client route with dot", "GET", "/rooms/v1.2", 200, index, "text/html", "no-cache"},
		{"directory", "GET", "/assets/", 200, index, "text/html", "no-cache"},
		{"escaping the root", "GET", "/../../etc/passwd", 200, index, "text/html", "no-cache"},
		{"dot file", "GET", "/.gitkeep", 404, "", "application/json", "no-cache"},
		{"hashed asset", "GET", "/assets/index-Bx12.js", 200, js, "text/javascript", immutable},
		{"other file", "GET", "/favicon.svg", 200, "", "image/svg+xml", "no-cache"},
		{"missing asset", "GET", "/assets/index-Old1.js", 404, "", "application/json", "no-cache"},
		{"missing favicon", "GET", "/favicon.ico", 404, "", "application/json", "no-cache"},
		{"missing file in a route", "GET", "/rooms/general/robots.txt", 404, "", "application/json", "no-cache"},
		{"head of a missing file", "HEAD", "/manifest.webmanifest", 404, "", "application/json", "no-cache"},
		{"head", "HEAD", "/", 200, "", "text/html", "no-cache"},
		{"post", "POST", "/", 405, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, h, tt.method, tt.target, nil)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d", tt.method, tt.target, res.StatusCode, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("%s %s: body = %q, want %q", tt.method, tt.target, body, tt.wantBody)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("%s %s: Content-Type = %q, want %q…", tt.method, tt.target, got, tt.wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.wantCaching {
				t.Errorf("%s %s: Cache-Control = %q, want %q", tt.method, tt.target, got, tt.wantCaching)
			}
		})
	}

	t.Run("post allows", func(t *testing.T) {
		res, _ := get(t, h, "POST", "/", nil)
		if got := res.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("POST /: Allow = %q, want %q", got, "GET, HEAD")
		}
	})

	t.Run("revalidation", func(t *testing.T) {
		res, _ := get(t, h, "GET", "/", nil)
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Fatal("GET /: no ETag")
		}
		res, body := get(t, h, "GET", "/", http.Header{"If-None-Match": {etag}})
		if res.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("GET / with If-None-Match %s: status %d, body %q; want 304 and no body", etag, res.StatusCode, body)
		}
		res, _ = get(t, h, "GET", "/assets/index-Bx12.js", nil)
		if other := res.Header.Get("ETag"); other == etag {
			t.Errorf("ETag of /assets/index-Bx12.js = %s, the same as index.html's", other)
		}
	})
}

func TestHandlerNotBuilt(t *testing.T) {
	h := mustNewHandler(t, fstest.MapFS{".gitkeep": {}})
	for _, target := range []string{"/", "/rooms/general"} {
		res, body := get(t, h, "GET", target, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status = %d, want 200", target, res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
			t.Errorf("GET %s: Content-Type = %q, want text/html", target, got)
		}
		for _, want := range []string{"Parley is running", "make run", "/ws", "docs/PROTOCOL.md", "/api/health", "/api/rooms"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: body does not mention %q:\n%s", target, want, body)
			}
		}
	}
}

// TestHandler checks the embedded build, whatever state dist/ is in.
func TestHandler(t *testing.T) {
	res, body := get(t, Handler(), "GET", "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status = %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("GET /: Content-Type = %q, want text/html", got)
	}
	if !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("GET /: body is not an HTML page:\n%s", body)
	}
}

// TestSecurityHeaders: every page of the UI forbids inline script, framing
// by other sites and content sniffing, and keeps its address from other
// sites; the notice of an unbuilt UI allows its own style block only.
func TestSecurityHeaders(t *testing.T) {
	built := mustNewHandler(t, fstest.MapFS{
		"index.html":           {Data: []byte(`<!doctype html><script src="/assets/a.js"></script>`)},
		"assets/a.js":          {Data: []byte(`1`)},
		"assets/missing-by-me": {Data: []byte(`x`)},
	})
	notBuilt := mustNewHandler(t, fstest.MapFS{".gitkeep": {}})
	for _, tt := range []struct {
		name   string
		h      *handler
		target string
		csp    []string // parts the policy must hold
	}{
		{"index", built, "/", []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "connect-src 'self'"}},
		{"asset", built, "/assets/a.js", []string{"script-src 'self'"}},
		{"client route", built, "/rooms/general", []string{"default-src 'self'"}},
		{"notice", notBuilt, "/", []string{"default-src 'none'", "style-src 'sha256-", "frame-ancestors 'none'"}},
	} {
		res, _ := get(t, tt.h, "GET", tt.target, nil)
		csp := res.Header.Get("Content-Security-Policy")
		for _, part := range tt.csp {
			if !strings.Contains(csp, part) {
				t.Errorf("%s: GET %s: Content-Security-Policy %q lacks %q", tt.name, tt.target, csp, part)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: GET %s: Content-Security-Policy %q allows inline code", tt.name, tt.target, csp)
		}
		for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("%s: GET %s: %s = %q, want %q", tt.name, tt.target, header, got, want)
			}
		}
	}
	// The notice's hash is of its style block as served.
	_, body := get(t, notBuilt, "GET", "/", nil)
	_, style, _ := strings.Cut(body, "<style>")
	style, _, _ = strings.Cut(style, "</style>")
	sum := sha256.Sum256([]byte(style))
	res, _ := get(t, notBuilt, "GET", "/", nil)
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(res.Header.Get("Content-Security-Policy"), want) {
		t.Errorf("notice's policy %q does not allow its style block (%s)", res.Header.Get("Content-Security-Policy"), want)
	}
}

// TestHandlerNotFound: a name that looks like a file's and is not in the
// build answers the server's JSON 404, never the app page; names that
// look like the client's routes (a room may be named v1.2) get the page.
func TestHandlerNotFound(t *testing.T) {
	h := mustNewHandler(t, fstest.MapFS{
		"index.html": {Data: []byte(`<!doctype html><title>Parley</title>`)},
		"robots.txt": {Data: []byte("User-agent: *\nAllow: /\n")},
	})
	for _, target := range []string{"/favicon.ico", "/apple-touch-icon.png", "/sitemap.xml", "/wp-login.php", "/.env", "/assets/x.js.map", "/robots.txt.gz"} {
		res, body := get(t, h, "GET", target, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", target, res.StatusCode)
			continue
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "not_found" || !strings.Contains(e.Error.Message, target) {
			t.Errorf("GET %s: body = %q (%v), want a not_found error naming the path", target, body, err)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q, want nosniff", target, got)
		}
	}
	for _, target := range []string{"/", "/rooms/general", "/rooms/v1.2", "/r/2026.11", "/a.b-c"} {
		res, body := get(t, h, "GET", target, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "<title>Parley") {
			t.Errorf("GET %s: status %d, body %q; want 200 and the app page", target, res.StatusCode, body)
		}
	}
	res, body := get(t, h, "GET", "/robots.txt", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "User-agent") || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("GET /robots.txt: status %d, Content-Type %q, body %q; want 200, text/plain and the file",
			res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

func mustGzip(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustBrotli(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decode undoes the Content-Encoding of a response body.
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", coding, err)
	}
	return out
}

// TestHandlerEncodings: a precompressed file is sent in the best encoding
// the client accepts, with the headers of the original file, and decodes
// to the original's bytes; the .br and .gz files are not served by name.
func TestHandlerEncodings(t *testing.T) {
	js := []byte(strings.Repeat(`export function hello(name){return "Hello, "+name+"!"}`+"\n", 80))
	index := []byte(`<!doctype html><title>Parley</title>` + strings.Repeat("<!-- padding -->", 100))
	h := mustNewHandler(t, fstest.MapFS{
		"index.html":              {Data: index},
		"index.html.br":           {Data: mustBrotli(t, index)},
		"index.html.gz":           {Data: mustGzip(t, index)},
		"assets/index-Bx12.js":    {Data: js},
		"assets/index-Bx12.js.br": {Data: mustBrotli(t, js)},
		"assets/index-Bx12.js.gz": {Data: mustGzip(t, js)},
		"assets/small-Ab12.js":    {Data: []byte(`1`)},
	})
	tests := []struct {
		accept string // "" sends no Accept-Encoding
		want   string // Content-Encoding, "" for none
	}{
		{"", ""},
		{"gzip, deflate, br, zstd", "br"},
		{"br", "br"},
		{"gzip", "gzip"},
		{"GZIP;Q=0.5", "gzip"},
		{"deflate", ""},
		{"identity", ""},
		{"*", "br"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0.0, gzip;q=0", ""},
		{"*;q=0", ""},
		{"*;q=0, gzip", "gzip"},
		{"br;q=0.5, gzip;q=0.8", "gzip"},
		{"br;q=0.8, gzip;q=0.8", "br"},
		{"br;q=0.5, identity", ""},
		{"br;q=nonsense, gzip", "gzip"},
	}
	for _, target := range []struct {
		path, caching, contentType string
		data                       []byte
	}{
		{"/assets/index-Bx12.js", immutable, "text/javascript; charset=utf-8", js},
		{"/", "no-cache", "text/html; charset=utf-8", index},
	} {
		for _, tt := range tests {
			header := http.Header{}
			if tt.accept != "" {
				header.Set("Accept-Encoding", tt.accept)
			}
			res, body := get(t, h, "GET", target.path, header)
			what := fmt.Sprintf("GET %s with Accept-Encoding %q", target.path, tt.accept)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: status = %d, want 200", what, res.StatusCode)
			}
			if got := res.Header.Get("Content-Encoding"); got != tt.want {
				t.Errorf("%s: Content-Encoding = %q, want %q", what, got, tt.want)
			}
			if got := decode(t, res.Header.Get("Content-Encoding"), []byte(body)); !bytes.Equal(got, target.data) {
				t.Errorf("%s: decoded body has %d bytes, want the %d of the file", what, len(got), len(target.data))
			}
			if tt.want != "" && len(body) >= len(target.data) {
				t.Errorf("%s: %d bytes sent for a file of %d", what, len(body), len(target.data))
			}
			for k, want := range map[string]string{
				"Vary":            "Accept-Encoding",
				"Content-Length":  strconv.Itoa(len(body)),
				"Cache-Control":   target.caching,
				"X-Frame-Options": "DENY",
				"Content-Type":    target.contentType,
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: %s = %q, want %q", what, k, got, want)
				}
			}
		}
	}

	// Each encoding is its own representation: its own ETag, and a
	// revalidation answers for the one asked for.
	etags := map[string]string{}
	for _, coding := range []string{"br", "gzip", "identity"} {
		res, _ := get(t, h, "GET", "/assets/index-Bx12.js", http.Header{"Accept-Encoding": {coding}})
		etags[coding] = res.Header.Get("ETag")
		res, body := get(t, h, "GET", "/assets/index-Bx12.js", http.Header{"Accept-Encoding": {coding}, "If-None-Match": {etags[coding]}})
		if res.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("GET with Accept-Encoding %s and its ETag: status %d, body %q; want 304", coding, res.StatusCode, body)
		}
	}
	if etags["br"] == etags["gzip"] || etags["br"] == etags["identity"] || etags["gzip"] == etags["identity"] {
		t.Errorf("ETags by encoding = %v, want three different ones", etags)
	}

	t.Run("head", func(t *testing.T) {
		res, body := get(t, h, "HEAD", "/assets/index-Bx12.js", http.Header{"Accept-Encoding": {"br"}})
		if res.StatusCode != 200 || body != "" || res.Header.Get("Content-Encoding") != "br" ||
			res.Header.Get("Content-Length") != strconv.Itoa(len(mustBrotli(t, js))) {
			t.Errorf("HEAD with br: status %d, body %q, Content-Encoding %q, Content-Length %q; want 200, none, br, the br file's length",
				res.StatusCode, body, res.Header.Get("Content-Encoding"), res.Header.Get("Content-Length"))
		}
	})

	t.Run("range", func(t *testing.T) {
		// A range is of the file's own bytes, whatever the client accepts.
		for _, accept := range []string{"", "br, gzip"} {
			res, body := get(t, h, "GET", "/assets/index-Bx12.js", http.Header{"Accept-Encoding": {accept}, "Range": {"bytes=0-9"}})
			if res.StatusCode != http.StatusPartialContent || body != string(js[:10]) || res.Header.Get("Content-Encoding") != "" ||
				res.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-9/%d", len(js)) || res.Header.Get("Content-Length") != "10" {
				t.Errorf("GET bytes=0-9 with Accept-Encoding %q: status %d, Content-Encoding %q, Content-Range %q, body %q; want 206, none, bytes 0-9/%d and the first 10 bytes of the file",
					accept, res.StatusCode, res.Header.Get("Content-Encoding"), res.Header.Get("Content-Range"), body, len(js))
			}
		}
	})

	t.Run("precondition failed", func(t *testing.T) {
		res, body := get(t, h, "GET", "/assets/index-Bx12.js", http.Header{"Accept-Encoding": {"br"}, "If-Match": {`"other"`}})
		if res.StatusCode != http.StatusPreconditionFailed || body != "" {
			t.Errorf("GET with a failing If-Match: status %d, body %q; want 412 and no body", res.StatusCode, body)
		}
	})

	t.Run("uncompressed files", func(t *testing.T) {
		res, body := get(t, h, "GET", "/assets/small-Ab12.js", http.Header{"Accept-Encoding": {"br, gzip"}})
		if res.StatusCode != 200 || body != "1" || res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "" {
			t.Errorf("GET a file without compressed forms: status %d, body %q, Content-Encoding %q, Vary %q; want 200, the file, none, none",
				res.StatusCode, body, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
	})

	t.Run("compressed files by name", func(t *testing.T) {
		for _, target := range []string{"/assets/index-Bx12.js.br", "/assets/index-Bx12.js.gz", "/index.html.gz"} {
			if res, _ := get(t, h, "GET", target, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status = %d, want 404", target, res.StatusCode)
			}
		}
	})
}

// TestEmbeddedEncodings checks the build in dist/, when there is one: every
// precompressed file decodes to its original, is smaller than it, and
// only files worth compressing were compressed.
func TestEmbeddedEncodings(t *testing.T) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		t.Skip("the UI is not built (npm run build in web/): nothing to check")
	}
	h := Handler().(*handler)
	compressed := 0
	for name, f := range h.files {
		for coding, e := range map[string]*encoded{"br": f.br, "gzip": f.gzip} {
			if e == nil {
				continue
			}
			compressed++
			if got := decode(t, coding, e.data); !bytes.Equal(got, f.data) {
				t.Errorf("%s in %s decodes to %d bytes, not the %d of the file", name, coding, len(got), len(f.data))
			}
			if len(e.data) >= len(f.data) {
				t.Errorf("%s in %s has %d bytes, the file %d", name, coding, len(e.data), len(f.data))
			}
		}
		if f.br == nil && strings.HasPrefix(name, "assets/") && strings.HasSuffix(name, ".js") && len(f.data) > 1024 {
			t.Errorf("%s (%d bytes) has no brotli form", name, len(f.data))
		}
		if (f.br != nil || f.gzip != nil) && strings.HasSuffix(name, ".png") {
			t.Errorf("%s, a PNG, was compressed again", name)
		}
	}
	if compressed == 0 {
		t.Error("the build holds no precompressed file")
	}
}

// TestManifest holds the web app manifest to what makes Parley installable
// as an app: valid JSON with a name, a start URL, standalone display,
// colours, and PNG icons of 192 and 512 pixels, one maskable. Its icons are
// checked in the build, when there is one, as the PNGs they claim to be.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("public/manifest.webmanifest")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name            string `json:"name"`
		ShortName       string `json:"short_name"`
		StartURL        string `json:"start_url"`
		Display         string `json:"display"`
		ThemeColor      string `json:"theme_color"`
		BackgroundColor string `json:"background_color"`
		Icons           []struct {
			Src, Sizes, Type, Purpose string
		} `json:"icons"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.webmanifest is not valid JSON: %v", err)
	}
	if m.Name != "Parley" || m.ShortName == "" || m.StartURL != "/" || m.Display != "standalone" {
		t.Errorf("manifest: name %q, short_name %q, start_url %q, display %q; want Parley, some, /, standalone", m.Name, m.ShortName, m.StartURL, m.Display)
	}
	colour := regexp.MustCompile(`^#[0-9a-f]{6}$`)
	if !colour.MatchString(m.ThemeColor) || !colour.MatchString(m.BackgroundColor) {
		t.Errorf("manifest: theme_color %q, background_color %q; want #rrggbb", m.ThemeColor, m.BackgroundColor)
	}
	have := map[string]bool{}
	for _, icon := range m.Icons {
		if icon.Type == "image/png" {
			have[icon.Sizes+" "+icon.Purpose] = true
		}
	}
	for _, want := range []string{"192x192 any", "512x512 any", "512x512 maskable"} {
		if !have[want] {
			t.Errorf("manifest: no PNG icon %s among %+v", want, m.Icons)
		}
	}

	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		t.Skip("the UI is not built (npm run build in web/): its icons are not checked")
	}
	h := Handler()
	for _, icon := range m.Icons {
		res, body := get(t, h, "GET", icon.Src, nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != icon.Type {
			t.Errorf("GET %s: status %d, Content-Type %q; want 200, %s", icon.Src, res.StatusCode, res.Header.Get("Content-Type"), icon.Type)
			continue
		}
		if icon.Type != "image/png" {
			continue
		}
		img, err := png.DecodeConfig(strings.NewReader(body))
		if got := fmt.Sprintf("%dx%d", img.Width, img.Height); err != nil || got != icon.Sizes {
			t.Errorf("GET %s: a PNG of %s (%v), want %s", icon.Src, got, err, icon.Sizes)
		}
	}
	res, body := get(t, h, "GET", "/manifest.webmanifest", nil)
	if res.StatusCode != http.StatusOK || body != string(raw) || res.Header.Get("Content-Type") != "application/manifest+json" {
		t.Errorf("GET /manifest.webmanifest: status %d, Content-Type %q; want 200, application/manifest+json and public/manifest.webmanifest",
			res.StatusCode, res.Header.Get("Content-Type"))
	}
	_, page := get(t, h, "GET", "/", nil)
	for _, want := range []string{`rel="manifest" href="/manifest.webmanifest"`, `name="theme-color"`, `href="/favicon.ico"`, `href="/icon.svg"`, `href="/apple-touch-icon.png"`} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, target := range []string{"/favicon.ico", "/apple-touch-icon.png", "/robots.txt"} {
		if res, _ := get(t, h, "GET", target, nil); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status = %d, want 200", target, res.StatusCode)
		}
	}
}
