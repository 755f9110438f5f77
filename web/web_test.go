package web

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
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
		{"dot file", "GET", "/.gitkeep", 200, index, "text/html", "no-cache"},
		{"hashed asset", "GET", "/assets/index-Bx12.js", 200, js, "text/javascript", immutable},
		{"other file", "GET", "/favicon.svg", 200, "", "image/svg+xml", "no-cache"},
		{"missing asset", "GET", "/assets/index-Old1.js", 404, "", "", "no-cache"},
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
