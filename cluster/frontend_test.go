package cluster

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/protocol"
)

// startFrontend runs deploy/frontend.conf, the frontend of compose.yaml, as
// the nginx image does (included in the http block), serving the files of
// root and passing /api and /ws to replicas, on a free loopback port.
func startFrontend(t *testing.T, root string, replicas []string) *nginx {
	t.Helper()
	bin := nginxBinary(t)
	conf, err := os.ReadFile("../deploy/frontend.conf")
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // for nginx's workers, which run as nobody under root
	var servers strings.Builder
	for _, r := range replicas {
		fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=5s;\n", r)
	}
	rendered := regexp.MustCompile(`(?m)^\s*server backend:8080 .*\n`).ReplaceAllString(string(conf), servers.String())
	rendered = strings.Replace(rendered, "listen 8080;", "listen "+addr+";", 1)
	rendered = strings.Replace(rendered, "root /usr/share/nginx/html;", "root "+root+";", 1)
	if !strings.Contains(rendered, replicas[0]) || !strings.Contains(rendered, addr) || !strings.Contains(rendered, root) {
		t.Fatalf("could not render deploy/frontend.conf for the test:\n%s", rendered)
	}
	// What the nginx image's own nginx.conf has around conf.d/*.conf.
	main := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events {}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, rendered)
	return runNginx(t, bin, dir, addr, main)
}

// TestFrontend runs the frontend of compose.yaml in front of a replica: it
// serves the client's files with the security headers parley itself sends,
// the app page for the client's routes, and passes the REST API and the
// WebSocket through.
func TestFrontend(t *testing.T) {
	// Not t.TempDir, whose parent only root may enter: nginx's workers run
	// as nobody.
	root, err := os.MkdirTemp("", "parley-frontend-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`console.log("parley")`))
	zw.Close()
	files := map[string]string{
		"index.html":            `<!doctype html><title>Parley</title><script type="module" src="/assets/app-1a2b.js"></script>`,
		"assets/app-1a2b.js":    `console.log("parley")`,
		"assets/app-1a2b.js.gz": gz.String(),
		"robots.txt":            "User-agent: *\nDisallow: /api/\n",
		"manifest.webmanifest":  `{"name":"Parley"}`,
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := startReplica(t, "-database", filepath.Join(t.TempDir(), "parley.db"))
	n := startFrontend(t, root, []string{r.addr})
	base := "http://" + n.addr

	security := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
	}
	for _, tt := range []struct {
		path, body, cache, contentType string
	}{
		{"/", files["index.html"], "no-cache", "text/html"},
		{"/general", files["index.html"], "no-cache", "text/html"}, // a room's address: the app page
		{"/assets/app-1a2b.js", files["assets/app-1a2b.js"], "public, max-age=31536000, immutable", "javascript"},
		{"/robots.txt", files["robots.txt"], "no-cache", "text/plain"},
		{"/manifest.webmanifest", files["manifest.webmanifest"], "no-cache", "application/manifest+json"},
	} {
		res, body := get(t, base+tt.path)
		if res.StatusCode != http.StatusOK || body != tt.body {
			t.Errorf("GET %s through the frontend = %s %q, want 200 %q", tt.path, res.Status, body, tt.body)
		}
		if got := res.Header.Get("Cache-Control"); got != tt.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tt.path, got, tt.cache)
		}
		if got := res.Header.Get("Content-Type"); !strings.Contains(got, tt.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tt.path, got, tt.contentType)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want the client's policy", tt.path, csp)
		}
		for k, v := range security {
			if got := res.Header.Get(k); got != v {
				t.Errorf("GET %s: %s %q, want %q", tt.path, k, got, v)
			}
		}
	}
	// Missing files are 404s, never the app page, and are not cached.
	for _, path := range []string{"/assets/gone-9z9z.js", "/favicon.ico", "/rooms/general/photo.png"} {
		res, body := get(t, base+path)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s (missing) through the frontend = %s, Cache-Control %q, %q; want 404, no-cache",
				path, res.Status, res.Header.Get("Cache-Control"), body)
		}
	}
	// A precompressed asset goes to a browser that takes gzip as it is.
	req, _ := http.NewRequest(http.MethodGet, base+"/assets/app-1a2b.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") || string(body) != gz.String() {
		t.Errorf("GET /assets/app-1a2b.js with Accept-Encoding gzip through the frontend: Content-Encoding %q, Vary %q, %d bytes; want the .gz file's %d bytes, gzip, Vary: Accept-Encoding",
			res.Header.Get("Content-Encoding"), res.Header.Get("Vary"), len(body), gz.Len())
	}
	if res, body := get(t, base+"/api/rooms"); res.StatusCode != http.StatusOK || !strings.Contains(body, `"general"`) {
		t.Errorf("GET /api/rooms through the frontend = %s %q, want 200 and the room general", res.Status, body)
	}

	// A page served by the frontend opens the WebSocket through it.
	ana := dial(t, n.addr, base)
	ana.hello("ana")
	ana.join("general")
	bob := dial(t, n.addr, base)
	bob.hello("bob")
	bob.join("general")
	ack := ana.send("general", "a-1", "hello through the frontend")
	bob.waitFor("ana's message", func(e protocol.Event) bool { return e.IsEntry() && e.Seq == ack.Seq })

	header := http.Header{"Origin": {"https://evil.example"}}
	if conn, res, err := websocket.DefaultDialer.Dial("ws://"+n.addr+"/ws", header); err == nil {
		conn.Close()
		t.Error("a WebSocket from another origin was accepted through the frontend")
	} else if res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a WebSocket from another origin through the frontend: %v, want 403", err)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}
