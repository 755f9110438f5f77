package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// nginx is Debian's nginx running deploy/nginx.conf in front of replicas.
type nginx struct {
	addr string // host:port it listens on
	cmd  *exec.Cmd
	dir  string
}

// startNginx runs deploy/nginx.conf with its upstream servers replaced by
// replicas and listening on a free loopback port, until the test ends.
func startNginx(t *testing.T, replicas []string) *nginx {
	t.Helper()
	bin := nginxBinary(t)
	conf, err := os.ReadFile("../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	dir := t.TempDir()
	// nginx's workers run as nobody when it is started as root: they must
	// be able to reach the temporary files.
	os.Chmod(dir, 0o755)
	var servers strings.Builder
	for _, r := range replicas {
		fmt.Fprintf(&servers, "        server %s max_fails=1 fail_timeout=5s;\n", r)
	}
	rendered := regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:808[1-3].*\n`).ReplaceAllString(string(conf), "")
	rendered = strings.Replace(rendered, "least_conn;\n", "least_conn;\n"+servers.String(), 1)
	rendered = strings.Replace(rendered, "listen 8080;", "listen "+addr+";", 1)
	rendered = strings.Replace(rendered, "http {", fmt.Sprintf(`http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;`, dir), 1)
	rendered = fmt.Sprintf("pid %s/nginx.pid;\nerror_log %s/error.log warn;\n", dir, dir) + rendered
	if rendered == string(conf) || !strings.Contains(rendered, replicas[0]) {
		t.Fatalf("could not render deploy/nginx.conf for the test:\n%s", rendered)
	}
	return runNginx(t, bin, dir, addr, rendered)
}

// nginxBinary returns Debian's nginx program, or skips the test without
// it (fails it in CI).
func nginxBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		need(t, "nginx (Debian's package nginx)")
	}
	return bin
}

// runNginx runs nginx with the configuration rendered, in dir, until the
// test ends, and returns once it answers on addr.
func runNginx(t *testing.T, bin, dir, addr, rendered string) *nginx {
	t.Helper()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(rendered), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\n%s", err, out, rendered)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-g", "daemon off;")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	n := &nginx{addr: addr, cmd: cmd, dir: dir}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // fast shutdown
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx's error log:\n%s%s", log, stderr.String())
		}
	})
	waitHTTP(t, "http://"+addr+"/api/health")
	return n
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP polls url until it answers 200, for a bounded while.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s did not answer 200 within 20s: last %v", url, err)
		case <-time.After(50 * time.Millisecond): // between polls; bounded by ctx
		}
	}
}

// need skips the test when a program it needs is missing, unless it runs
// in CI, where .ci/run installs it and its absence is a failure.
func need(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is needed: .ci/run installs it", what)
	}
	t.Skipf("%s is not installed", what)
}
