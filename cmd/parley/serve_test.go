package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// status GETs url with client and returns the status code and the body.
func status(t *testing.T, client *http.Client, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestMetricsListener: in staging, /metrics is served on a listener of
// its own, which the log line names, and the main port answers 404; the
// listener closes with the server.
func TestMetricsListener(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := inDir(t, nil)
	s := startServer(t, filepath.Join(dir, "parley.db"), "-profile", "staging", "-metrics-addr", "127.0.0.1:0")
	metricsURL := s.logs.listeningLine().Metrics
	if !strings.HasPrefix(metricsURL, "http://127.0.0.1:") || !strings.HasSuffix(metricsURL, "/metrics") || strings.Contains(metricsURL, s.addr) {
		t.Fatalf("the listening line says metrics are at %q, want http://127.0.0.1:PORT/metrics on another port than %s", metricsURL, s.addr)
	}
	if code, body := status(t, http.DefaultClient, metricsURL, ""); code != http.StatusOK || !strings.Contains(body, "parley_connections 0") {
		t.Errorf("GET %s: %d, want 200 with parley_connections", metricsURL, code)
	}
	if code, _ := status(t, http.DefaultClient, strings.TrimSuffix(metricsURL, "/metrics")+"/api/health", ""); code != http.StatusNotFound {
		t.Errorf("GET /api/health on the metrics listener: %d, want 404", code)
	}
	if code, _ := status(t, http.DefaultClient, "http://"+s.addr+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the main port with a metrics listener: %d, want 404", code)
	}
	s.stop(t)
	if conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(metricsURL, "http://"), "/metrics")); err == nil {
		conn.Close()
		t.Errorf("the metrics listener still accepts connections after the server stopped")
	}
}

// TestMetricsPlaces: where the listening line says metrics are, by
// profile and settings.
func TestMetricsPlaces(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	for _, tt := range []struct {
		args       []string
		want       string
		mainStatus int
	}{
		{nil, "/metrics on the main listener", http.StatusOK},
		{[]string{"-profile", "production", "-metrics=false"}, "off", http.StatusNotFound},
		{[]string{"-profile", "staging", "-metrics-addr="}, "/metrics on the main listener", http.StatusOK},
	} {
		dir := inDir(t, nil)
		s := startServer(t, filepath.Join(dir, "parley.db"), tt.args...)
		if got := s.logs.listeningLine().Metrics; got != tt.want {
			t.Errorf("run(serve %q): the listening line says metrics %q, want %q", tt.args, got, tt.want)
		}
		if code, _ := status(t, http.DefaultClient, "http://"+s.addr+"/metrics", ""); code != tt.mainStatus {
			t.Errorf("run(serve %q): GET /metrics on the main port: %d, want %d", tt.args, code, tt.mainStatus)
		}
		s.stop(t)
	}
}

// selfSigned writes a new self-signed certificate for 127.0.0.1 and its
// key into dir, and returns their files and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "parley test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

// TestTLS serves HTTPS with -tls-cert and -tls-key, and chats over wss://
// with a client that verifies the certificate.
func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := inDir(t, nil)
	certFile, keyFile, pool := selfSigned(t, dir)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	s := startServerClient(t, filepath.Join(dir, "parley.db"), client, "-tls-cert", certFile, "-tls-key", keyFile)
	if s.scheme != "https" {
		t.Fatalf("the listening line says scheme %q, want https", s.scheme)
	}

	dialer := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}, HandshakeTimeout: 10 * time.Second}
	header := http.Header{"Origin": {"https://" + s.addr}}
	conn, _, err := dialer.DialContext(t.Context(), "wss://"+s.addr+"/ws", header)
	if err != nil {
		t.Fatalf("dial wss://%s/ws: %v", s.addr, err)
	}
	defer conn.Close()
	send(t, conn, `{"type":"hello","v":1,"nick":"ana"}`)
	readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" })
	send(t, conn, `{"type":"join","room":"general","since":0}`)
	readUntil(t, conn, "joined", func(e event) bool { return e.Type == "joined" })
	send(t, conn, `{"type":"send","room":"general","clientId":"tls-1","text":"over TLS"}`)
	readUntil(t, conn, "ack", func(e event) bool { return e.Type == "ack" && e.ClientID == "tls-1" })

	// TLS 1.1 and older are refused.
	old := &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}
	if c, err := tls.Dial("tcp", s.addr, old); err == nil {
		c.Close()
		t.Errorf("a TLS 1.1 handshake succeeded, want it refused")
	}
	// Plain HTTP is not served.
	if code, _ := status(t, http.DefaultClient, "http://"+s.addr+"/api/health", ""); code == http.StatusOK {
		t.Errorf("GET http://%s/api/health: 200, want plain HTTP refused on the TLS port", s.addr)
	}
	conn.Close()
	s.stop(t)
}

func TestTLSBadPair(t *testing.T) {
	dir := inDir(t, nil)
	certFile, _, _ := selfSigned(t, dir)
	err := run(t.Context(), []string{"serve", "-addr", "127.0.0.1:0", "-database", filepath.Join(dir, "p.db"),
		"-tls-cert", certFile, "-tls-key", filepath.Join(dir, "missing.pem")}, nil, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "tls-cert and tls-key") || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("run(serve) with a missing key = %v, want an error naming tls-cert and tls-key and the file", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, "p.db")); serr == nil {
		t.Errorf("run(serve) with a bad key pair created the database; want it to stop first")
	}
}

// TestPublicURL runs a production server behind a name: requests for that
// host are served, others refused with 421, and the probes answer on the
// server's own address.
func TestPublicURL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := inDir(t, nil)
	// startServer's own health check asks for 127.0.0.1:PORT: probes pass.
	s := startServer(t, filepath.Join(dir, "parley.db"), "-profile", "production", "-guests",
		"-public-url", "https://chat.example.com", "-trusted-proxies", "127.0.0.1", "-metrics-addr", "127.0.0.1:0")
	if got := s.logs.listeningLine().PublicURL; got != "https://chat.example.com" {
		t.Errorf("the listening line says public_url %q, want https://chat.example.com", got)
	}
	base := "http://" + s.addr
	for _, tt := range []struct {
		path, host string
		want       int
	}{
		{"/api/rooms", "chat.example.com", http.StatusOK},
		{"/api/rooms", "", http.StatusMisdirectedRequest},
		{"/api/rooms", "other.example.com", http.StatusMisdirectedRequest},
		{"/api/ready", "", http.StatusOK},
	} {
		if code, body := status(t, http.DefaultClient, base+tt.path, tt.host); code != tt.want {
			t.Errorf("GET %s for host %q: %d %s, want %d", tt.path, tt.host, code, body, tt.want)
		}
	}
	if logs := s.logs.String(); strings.Contains(logs, "no public URL") {
		t.Errorf("a server with a public URL warned that it has none:\n%s", logs)
	}
	s.stop(t)

	s = startServer(t, filepath.Join(dir, "parley.db"), "-profile", "production", "-guests", "-metrics-addr", "127.0.0.1:0")
	if logs := s.logs.String(); !strings.Contains(logs, "no public URL: set PARLEY_PUBLIC_URL") {
		t.Errorf("a production server without a public URL did not warn:\n%s", logs)
	}
	s.stop(t)
}
