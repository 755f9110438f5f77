package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/httpapi"
)

// getHost requests path from ts with the Host header host.
func getHost(t *testing.T, ts *testServer, host, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s for %s: %v", path, host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestOnlyPublicHost: with a public URL, requests for another host are
// refused with 421 and wrong_host, but the probes answer whatever the
// host, since a kubelet or load balancer names the pod's address.
func TestOnlyPublicHost(t *testing.T) {
	t.Parallel()
	public, _ := url.Parse("https://chat.example.com")
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{PublicURL: public, OnlyPublicHost: true}})
	own := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		host, path string
		want       int
	}{
		{"chat.example.com", "/api/rooms", http.StatusOK},
		{"CHAT.example.com:443", "/api/rooms", http.StatusOK},
		{"chat.example.com", "/", http.StatusOK},
		{"chat.example.com:8443", "/api/rooms", http.StatusMisdirectedRequest},
		{"evil.example", "/api/rooms", http.StatusMisdirectedRequest},
		{own, "/api/rooms", http.StatusMisdirectedRequest},
		{own, "/", http.StatusMisdirectedRequest},
		{own, "/ws", http.StatusMisdirectedRequest},
		{own, "/api/health", http.StatusOK},
		{own, "/api/ready", http.StatusOK},
		{"10.1.2.3:8080", "/api/ready", http.StatusOK},
	}
	for _, tt := range tests {
		status, body := getHost(t, ts, tt.host, tt.path)
		if status != tt.want {
			t.Errorf("GET %s for host %s: %d %s, want %d", tt.path, tt.host, status, body, tt.want)
			continue
		}
		if status == http.StatusMisdirectedRequest {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "wrong_host" || !strings.Contains(e.Error.Message, "https://chat.example.com") {
				t.Errorf("GET %s for host %s: %s, want the error wrong_host naming https://chat.example.com", tt.path, tt.host, body)
			}
		}
	}
}

// TestOriginWithPublicURL: the server's own origin is the public URL's
// scheme and host, whatever Host the request names; without
// OnlyPublicHost other hosts are served.
func TestOriginWithPublicURL(t *testing.T) {
	t.Parallel()
	public, _ := url.Parse("https://chat.example.com")
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{PublicURL: public, AllowedOrigins: []string{"https://app.example"}}})
	own := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		host, origin string
		ok           bool
	}{
		{"chat.example.com", "https://chat.example.com", true},
		{"chat.example.com", "https://chat.example.com:443", true},
		{own, "https://chat.example.com", true},
		{"chat.example.com", "https://app.example", true},
		{"chat.example.com", "", true},
		{"chat.example.com", "http://chat.example.com", false},
		{"chat.example.com", "https://chat.example.com:8443", false},
		{own, ts.URL, false}, // the host the request names is not the server's origin
		{"evil.example", "https://evil.example", false},
	}
	for i, tt := range tests {
		header := http.Header{"Host": {tt.host}}
		if tt.origin != "" {
			header.Set("Origin", tt.origin)
		}
		conn, resp, err := dial(ts, header)
		if tt.ok {
			if err != nil {
				t.Errorf("dial for host %s with Origin %q = %v, want accepted", tt.host, tt.origin, err)
				continue
			}
			c := &client{t: t, conn: conn}
			c.hello(fmt.Sprintf("user%d", i), "")
			conn.Close()
			continue
		}
		if err == nil {
			conn.Close()
			t.Errorf("dial for host %s with Origin %q succeeded, want refused", tt.host, tt.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("dial for host %s with Origin %q = %v, %v; want 403", tt.host, tt.origin, resp, err)
		}
	}
	if status, _ := getHost(t, ts, "evil.example", "/api/rooms"); status != http.StatusOK {
		t.Errorf("GET /api/rooms for another host without OnlyPublicHost: %d, want 200", status)
	}
}

// TestErrorLogNamesTheClient: an internal error is logged with the client's
// address, taken from X-Forwarded-For when a trusted proxy sent it.
func TestErrorLogNamesTheClient(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{allowErrors: true, opts: httpapi.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}})
	ts.store.Close()
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/rooms", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", "198.51.100.66, 203.0.113.9")
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GET /api/rooms with the store closed: %d, want 500", resp.StatusCode)
	}
	msgs := strings.Join(ts.errs.messages(), "\n")
	if !strings.Contains(msgs, "request failed") || !strings.Contains(msgs, "client=203.0.113.9") {
		t.Errorf("the server logged %q, want \"request failed\" with client=203.0.113.9", msgs)
	}
}
