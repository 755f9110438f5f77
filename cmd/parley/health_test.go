package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealth asks a running server, as a container's HEALTHCHECK does,
// by URL and by the server's own -addr setting.
func TestHealth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := inDir(t, nil)
	s := startServer(t, filepath.Join(dir, "parley.db"))

	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"url", []string{"health", "-url", "http://" + s.addr + "/api/health"}, nil},
		{"PARLEY_ADDR", []string{"health"}, map[string]string{"PARLEY_ADDR": s.addr}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			if err := run(t.Context(), tt.args, environment(tt.env), nil, &stdout, io.Discard); err != nil {
				t.Fatalf("run(%q) with %v = %v, want nil", tt.args, tt.env, err)
			}
			if want := "http://" + s.addr + "/api/health: 200 OK"; !strings.Contains(stdout.String(), want) {
				t.Errorf("run(%q) printed %q, want %q", tt.args, stdout.String(), want)
			}
		})
	}

	t.Run("TLS", func(t *testing.T) {
		dir := inDir(t, nil)
		certFile, keyFile, pool := selfSigned(t, dir)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer client.CloseIdleConnections()
		tlsServer := startServerClient(t, filepath.Join(dir, "parley.db"), client, "-tls-cert", certFile, "-tls-key", keyFile)
		env := map[string]string{"PARLEY_ADDR": tlsServer.addr, "PARLEY_TLS_CERT": certFile, "PARLEY_TLS_KEY": keyFile}
		var stdout bytes.Buffer
		if err := run(t.Context(), []string{"health"}, environment(env), nil, &stdout, io.Discard); err != nil {
			t.Fatalf("run(health) with %v = %v, want nil", env, err)
		}
		if want := "https://" + tlsServer.addr + "/api/health: 200 OK"; !strings.Contains(stdout.String(), want) {
			t.Errorf("run(health) printed %q, want %q", stdout.String(), want)
		}
	})

	t.Run(".env", func(t *testing.T) {
		inDir(t, map[string]string{".env": "PARLEY_ADDR=" + s.addr + "\n"})
		if err := run(t.Context(), []string{"health"}, environment(nil), nil, io.Discard, io.Discard); err != nil {
			t.Fatalf("run(health) with PARLEY_ADDR=%s in .env = %v, want nil", s.addr, err)
		}
	})
}

// TestHealthFails checks that every answer but 200 is a failure, and so is
// no answer within the timeout.
func TestHealthFails(t *testing.T) {
	inDir(t, nil)
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"unavailable","message":"Shutting down."}}`, http.StatusServiceUnavailable)
	}))
	defer unavailable.Close()
	redirect := httptest.NewServer(http.RedirectHandler(unavailable.URL+"/ok", http.StatusFound))
	defer redirect.Close()
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer silent.Close()
	defer close(release)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"503", []string{"health", "-url", unavailable.URL + "/api/health"}, "503 Service Unavailable"},
		{"redirect", []string{"health", "-url", redirect.URL + "/api/health"}, "302 Found"},
		{"no answer", []string{"health", "-url", silent.URL + "/api/health", "-timeout", "100ms"}, "deadline exceeded"},
		{"nobody listening", []string{"health", "-url", closed.URL + "/api/health"}, "connection refused"},
		{"port 0", []string{"health"}, "pass -url"},
		{"argument", []string{"health", "now"}, `unexpected argument "now"`},
		{"timeout", []string{"health", "-timeout", "0s"}, "-timeout must be positive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PARLEY_ADDR": "127.0.0.1:0"}
			var stdout bytes.Buffer
			err := run(t.Context(), tt.args, environment(env), nil, &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error saying %q", tt.args, err, tt.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("run(%q) printed %q, want nothing on failure", tt.args, stdout.String())
			}
		})
	}
}

func TestHealthURL(t *testing.T) {
	for _, tt := range []struct {
		addr, want string
	}{
		{":8080", "http://127.0.0.1:8080/api/health"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/api/health"},
		{"[::]:8080", "http://[::1]:8080/api/health"},
		{"10.1.2.3:80", "http://10.1.2.3:80/api/health"},
		{"localhost:8081", "http://localhost:8081/api/health"},
		{":0", ""},
		{"8080", ""},
	} {
		got, err := healthURL(tt.addr, false)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("healthURL(%q, false) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
}

func TestHealthHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "health"}, {"health", "-help"}} {
		var stdout bytes.Buffer
		if err := run(t.Context(), args, environment(nil), nil, &stdout, io.Discard); err != nil {
			t.Fatalf("run(%q) = %v, want nil", args, err)
		}
		for _, want := range []string{"Usage: parley health", "-url URL", "/api/health", "PARLEY_ADDR"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("run(%q) printed help without %q:\n%s", args, want, stdout.String())
			}
		}
	}
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"help"}, environment(nil), nil, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "parley health") {
		t.Errorf("run(help) printed no word of parley health:\n%s", stdout.String())
	}
}
