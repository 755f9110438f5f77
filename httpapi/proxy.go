package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// clientAddrKey is the context key of the client's address.
type clientAddrKey struct{}

// ClientAddr returns the address of the client that made r: the
// connection's peer, or, when the peer is one of Options.TrustedProxies,
// the address that the proxies say they forwarded the request for, in
// X-Forwarded-For. Logs and limits per address use it. It returns the zero
// netip.Addr when the peer's address is not an IP address (a Unix socket).
func ClientAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientAddrKey{}).(netip.Addr); ok {
		return a
	}
	return peerAddr(r)
}

// peerAddr returns the address of the other end of r's connection.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// withClientAddr stores each request's client address (see ClientAddr) in
// its context. A request from a trusted proxy comes from the rightmost
// address of X-Forwarded-For that is not a trusted proxy: each proxy
// appends the address it got the request from, so the hops to the right of
// it are the proxies' own, which can be believed, and those to its left
// are what the client sent, which cannot.
func withClientAddr(trusted []netip.Prefix, next http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := peerAddr(r)
		if client.IsValid() && isTrusted(client) {
			client = forwardedFor(r.Header.Values("X-Forwarded-For"), client, isTrusted)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, client)))
	})
}

// forwardedFor walks the hops of X-Forwarded-For (every header line, in
// order) from the right and returns the first one that is not trusted.
// When every hop is trusted, it is the leftmost; when a hop is not an
// address, the one to its right, the last that a trusted proxy vouched for.
func forwardedFor(headers []string, peer netip.Addr, trusted func(netip.Addr) bool) netip.Addr {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// Some proxies write "[::1]:1234" or "1.2.3.4:5678".
			ap, perr := netip.ParseAddrPort(strings.TrimSpace(hops[i]))
			if perr != nil {
				return client
			}
			a = ap.Addr()
		}
		client = a.Unmap()
		if !trusted(client) {
			return client
		}
	}
	return client
}

// onlyHost refuses, with 421 Misdirected Request, requests whose Host is
// not public's host, except the probes /api/health and /api/ready, which
// a load balancer or a kubelet sends to the server's own address.
func onlyHost(public *url.URL, next http.Handler) http.Handler {
	want := canonicalHost(public.Scheme, public.Host)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" && r.URL.Path != "/api/ready" && canonicalHost(public.Scheme, r.Host) != want {
			writeJSONError(w, http.StatusMisdirectedRequest, "wrong_host",
				"This server answers for "+public.Host+" only; use "+public.String()+".")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalHost returns host in lower case, without the port that scheme
// implies, so that chat.example.com and chat.example.com:443 are one host
// for https.
func canonicalHost(scheme, host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if h, port, err := net.SplitHostPort(host); err == nil &&
		((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return host
}
