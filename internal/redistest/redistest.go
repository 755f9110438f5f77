// Package redistest starts throw-away Redis servers for tests: each listens
// only on a Unix socket in a temporary directory of its own, keeps nothing
// on disk, and is stopped when its test ends. A test can stop a server and
// start it again on the same socket, as an operator restarting Redis does.
//
// It needs redis-server on the PATH. Without it, Start skips the test, or
// fails it when the environment variable CI is set: a suite that skips is
// not a passing suite.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to say it is ready.
const startTimeout = 20 * time.Second

// Server is a redis-server process under a test's control. Its methods
// are safe for concurrent use.
type Server struct {
	tb     testing.TB
	bin    string // the redis-server program
	dir    string // the server's working directory, which holds the socket
	socket string

	mu     sync.Mutex
	cmd    *exec.Cmd     // nil while stopped; guarded by mu
	exited chan struct{} // closed once cmd has exited; guarded by mu
	log    *syncBuffer   // what the server printed, all runs; for failures
}

// Start starts a Redis server for the test and stops it at the test's
// cleanup. It skips the test when redis-server is not installed, unless
// the environment variable CI is set: then it fails it.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("redis-server is not installed, and CI is set: install it (Debian: apt-get install redis-server): %v", err)
		}
		tb.Skip("redis-server is not installed (Debian: apt-get install redis-server); skipping. With CI set, this test fails instead.")
	}
	// Not t.TempDir: a Unix socket's path must be short (108 bytes), and a
	// temporary directory named after a long test's name is not.
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: dir, socket: filepath.Join(dir, "redis.sock"), log: new(syncBuffer)}
	tb.Cleanup(func() {
		s.Stop()
		if tb.Failed() {
			tb.Logf("redis-server's output:\n%s", s.log)
		}
		os.RemoveAll(dir)
	})
	s.Restart()
	return s
}

// URL returns the URL that clients reach the server at, unix://PATH.
func (s *Server) URL() string { return "unix://" + s.socket }

// Socket returns the path of the server's Unix socket.
func (s *Server) Socket() string { return s.socket }

// Stop stops the server, if it runs, and returns once it has exited: the
// connections of its clients are closed, and new ones are refused.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// SIGKILL rather than a shutdown: with nothing to save, the end is the
	// same for clients, and it cannot hang.
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Restart stops the server if it runs, then starts it again on the same
// socket, empty, and returns once it accepts connections. It fails the
// test if the server does not start.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin,
		"--port", "0", // no TCP
		"--unixsocket", s.socket,
		"--unixsocketperm", "700",
		"--dir", s.dir,
		"--save", "", // no snapshots
		"--appendonly", "no",
		"--daemonize", "no",
		"--loglevel", "notice",
		"--logfile", "", // standard output, read below
	)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = s.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(exited)
		// Copy the output as it comes, so the server never blocks on a
		// full pipe, and call Wait only once the pipe has been read to its
		// end.
		sc := bufio.NewScanner(stdout)
		announced := false
		for sc.Scan() {
			fmt.Fprintln(s.log, sc.Text())
			if !announced && strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
				announced = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
	}()
	select {
	case <-ready:
	case <-exited:
		s.tb.Fatalf("redis-server exited before it was ready:\n%s", s.log)
	case <-time.After(startTimeout):
		cmd.Process.Kill()
		<-exited
		s.tb.Fatalf("redis-server did not say it was ready within %v:\n%s", startTimeout, s.log)
	}
	s.cmd, s.exited = cmd, exited
	if err := s.ping(); err != nil {
		s.tb.Fatalf("redis-server says it is ready, but PING fails: %v", err)
	}
}

// ping checks that the server answers PING on its socket.
func (s *Server) ping() error {
	conn, err := net.DialTimeout("unix", s.socket, startTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(startTimeout))
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
