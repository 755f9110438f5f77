package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// TestFrontendHeaders holds deploy/frontend.conf, the nginx that serves
// this client in compose.yaml, to the headers that Handler sends: each
// location that serves the client sets exactly the headers, and the values,
// that Handler sets on the same kind of file, so that serving the client
// from nginx is no weaker. (Package cluster runs that nginx and checks that
// it sends them.)
func TestFrontendHeaders(t *testing.T) {
	conf, err := os.ReadFile("../deploy/frontend.conf")
	if err != nil {
		t.Fatal(err)
	}
	h := mustNewHandler(t, fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>Parley</title>")},
		"assets/app-1a2b.js":   {Data: []byte(`console.log("parley")`)},
		"robots.txt":           {Data: []byte("User-agent: *\n")},
		"manifest.webmanifest": {Data: []byte(`{"name":"Parley"}`)},
	})
	// Headers that say what the body is, which nginx sets by itself.
	content := []string{"Content-Type", "Content-Length", "Etag", "Last-Modified", "Accept-Ranges", "Vary", "Content-Encoding"}
	fileName := `~ "/[^/]*\.(?=[0-9]*[A-Za-z])[0-9A-Za-z]{1,12}$"`
	for _, tt := range []struct{ location, path string }{
		{"/", "/rooms/general"},
		{"^~ /assets/", "/assets/app-1a2b.js"},
		{"^~ /assets/", "/assets/gone-9z9z.js"},
		{`~ \.webmanifest$`, "/manifest.webmanifest"},
		{fileName, "/index.html"},
		{fileName, "/robots.txt"},
		{fileName, "/favicon.ico"}, // missing: 404
	} {
		want := map[string]string{}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		for k, v := range rec.Header() {
			if !slices.Contains(content, k) {
				want[k] = strings.Join(v, ", ")
			}
		}
		got := addHeaders(t, string(conf), tt.location)
		for k, v := range got {
			if strings.HasPrefix(v, "$") {
				got[k] = mapStatus(t, string(conf), v, rec.Code)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("deploy/frontend.conf, location %s: add_header %s %q; Handler sends %q for GET %s", tt.location, k, got[k], v, tt.path)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("deploy/frontend.conf, location %s: add_header %s %q, which Handler does not send for GET %s", tt.location, k, v, tt.path)
			}
		}
	}
}

// mapStatus returns the value that the block "map $status variable" of conf
// gives for a response of status code.
func mapStatus(t *testing.T, conf, variable string, code int) string {
	t.Helper()
	start := strings.Index(conf, "\nmap $status "+variable+" {\n")
	if start < 0 {
		t.Fatalf("deploy/frontend.conf has no map $status %s", variable)
	}
	block := conf[start+1:]
	block = block[strings.Index(block, "\n")+1 : strings.Index(block, "\n}\n")]
	def := ""
	line := regexp.MustCompile(`^\s*(\S+)\s+("([^"]*)"|(\S+));$`)
	for _, l := range strings.Split(block, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("deploy/frontend.conf, map %s: cannot read %q", variable, l)
		}
		key, value := m[1], m[3]+m[4]
		switch {
		case key == "default":
			def = value
		case strings.HasPrefix(key, "~"):
			if regexp.MustCompile(key[1:]).MatchString(strconv.Itoa(code)) {
				return value
			}
		case key == strconv.Itoa(code):
			return value
		}
	}
	return def
}

// addHeaders returns the headers that the add_header lines of the location
// block named location in conf set, by canonical name.
func addHeaders(t *testing.T, conf, location string) map[string]string {
	t.Helper()
	start := strings.Index(conf, "\n    location "+location+" {\n")
	if start < 0 {
		t.Fatalf("deploy/frontend.conf has no location %s", location)
	}
	block := conf[start+1:]
	block = block[:strings.Index(block, "\n    }\n")]
	headers := map[string]string{}
	line := regexp.MustCompile(`(?m)^\s*add_header\s+(\S+)\s+("([^"]*)"|(\S+))\s+always;\s*$`)
	for _, m := range line.FindAllStringSubmatch(block, -1) {
		headers[http.CanonicalHeaderKey(m[1])] = m[3] + m[4]
	}
	if n := strings.Count(block, "add_header"); n != len(headers) {
		t.Fatalf("deploy/frontend.conf, location %s: %d add_header lines, %d understood (each must end with always;)", location, n, len(headers))
	}
	return headers
}
