package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddr sends requests over a real connection from 127.0.0.1 with
// various X-Forwarded-For headers, and checks the client address the
// handler sees.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	private := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name    string
		trusted []netip.Prefix
		xff     []string // one per header line
		want    string
	}{
		{"no proxies trusted", nil, []string{"203.0.113.9"}, "127.0.0.1"},
		{"another proxy trusted", []netip.Prefix{private}, []string{"203.0.113.9"}, "127.0.0.1"},
		{"trusted proxy without the header", []netip.Prefix{loopback}, nil, "127.0.0.1"},
		{"trusted proxy", []netip.Prefix{loopback}, []string{"203.0.113.9"}, "203.0.113.9"},
		{"what the client wrote is not believed", []netip.Prefix{loopback}, []string{"198.51.100.66, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", []netip.Prefix{loopback, private}, []string{"198.51.100.66, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"several header lines", []netip.Prefix{loopback}, []string{"198.51.100.66", "203.0.113.9"}, "203.0.113.9"},
		{"every hop trusted", []netip.Prefix{loopback, private}, []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{"garbage left of the client", []netip.Prefix{loopback}, []string{"nonsense, 203.0.113.9"}, "203.0.113.9"},
		{"garbage from the proxy", []netip.Prefix{loopback}, []string{"203.0.113.9, nonsense"}, "127.0.0.1"},
		{"garbage behind a trusted hop", []netip.Prefix{loopback, private}, []string{"nonsense, 10.0.0.7"}, "10.0.0.7"},
		{"IPv6", []netip.Prefix{loopback}, []string{"2001:db8::1"}, "2001:db8::1"},
		{"with a port", []netip.Prefix{loopback}, []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv4 in IPv6", []netip.Prefix{loopback}, []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(withClientAddr(tt.trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, ClientAddr(r).String())
			})))
			defer ts.Close()
			req, err := http.NewRequest("GET", ts.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != tt.want {
				t.Errorf("trusting %v, X-Forwarded-For %q: client %s, want %s", tt.trusted, tt.xff, body, tt.want)
			}
		})
	}
}

func TestCanonicalHost(t *testing.T) {
	for _, tt := range []struct{ scheme, host, want string }{
		{"https", "Chat.Example.com", "chat.example.com"},
		{"https", "chat.example.com:443", "chat.example.com"},
		{"http", "chat.example.com:443", "chat.example.com:443"},
		{"http", "chat.example.com:80", "chat.example.com"},
		{"https", "[2001:db8::1]:443", "[2001:db8::1]"},
		{"https", "chat.example.com:8443", "chat.example.com:8443"},
	} {
		if got := canonicalHost(tt.scheme, tt.host); got != tt.want {
			t.Errorf("canonicalHost(%q, %q) = %q, want %q", tt.scheme, tt.host, got, tt.want)
		}
	}
}
