// Package pgtest starts a throw-away PostgreSQL server for tests, and gives
// each test a fresh database on it. Package postgres tests its store with
// it, and cmd/parley serves on it end to end.
//
// A test package that uses it calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and each test asks for a database of its own:
//
//	url := pgtest.NewDatabase(t) // postgres://…, empty
//
// The server is started on the first NewDatabase of the test binary, from
// the server programs of the newest PostgreSQL under /usr/lib/postgresql
// (Debian's layout) or on the PATH: initdb into a new temporary directory,
// then postgres listening only on a Unix socket in that directory, with
// little shared memory, so that it starts in a second or two. Main stops it
// and removes the directory when the tests end. PostgreSQL refuses to run
// as root, so when the tests run as root (as CI does) the server runs as
// the system user postgres, which Debian's postgresql package creates.
//
// Where PostgreSQL is not installed, NewDatabase skips the test, or fails
// it when the environment variable CI is set: a suite that skips is not a
// passing suite.
//
// When the environment variable PARLEY_TEST_POSTGRES holds the URL of a
// running server (postgres://user:password@host/database, as a role that
// may create databases), the tests use it instead of starting one: each
// test's database is created there, and dropped when the test ends.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the role initdb creates, which the tests connect as.
const superuser = "pgtest"

// startTimeout bounds initdb and the server's start-up.
const startTimeout = time.Minute

// shared is the server of the test binary, started by the first
// NewDatabase and stopped by Main.
var shared struct {
	mu      sync.Mutex
	main    bool    // Main is running the tests
	server  *Server // nil until started
	err     error   // why it could not start; then it is not tried again
	missing bool    // err is that PostgreSQL is not installed
	n       int     // databases created
}

// Main runs the tests of m, then stops the server if a test started it, and
// exits with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	if shared.server != nil {
		if err := shared.server.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// NewDatabase returns the URL of a new, empty database on the test binary's
// server, starting the server if this is the first call. The database is
// dropped when the test ends, after the test's own cleanups (which should
// close what connects to it).
func NewDatabase(t testing.TB) string {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.main {
		t.Fatal("pgtest.NewDatabase: call pgtest.Main from TestMain, which stops the server when the tests end")
	}
	if shared.server == nil && shared.err == nil {
		if u := os.Getenv("PARLEY_TEST_POSTGRES"); u != "" {
			shared.server, shared.err = Connect(t.Context(), u)
		} else {
			shared.server, shared.err = Start()
			shared.missing = errors.Is(shared.err, ErrNotInstalled)
		}
	}
	switch {
	case shared.missing && os.Getenv("CI") == "":
		t.Skipf("skipping: %v (install Debian's postgresql package to run this test)", shared.err)
	case shared.err != nil:
		t.Fatalf("pgtest: %v", shared.err)
	}
	shared.n++
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), shared.n)
	u, err := shared.server.CreateDatabase(t.Context(), name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s := shared.server
	t.Cleanup(func() {
		// Dropping keeps the server's directory small while the tests go on;
		// FORCE ends connections that a failed test left open.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return u
}

// ErrNotInstalled is what Start returns when it finds no PostgreSQL server
// programs.
var ErrNotInstalled = errors.New("PostgreSQL's server programs (initdb, postgres) are not installed")

// Server is a running PostgreSQL server that tests create databases on:
// a throw-away one (Start), or one that runs anyway (Connect).
type Server struct {
	base *url.URL // of the server's database postgres; a database's URL differs in its path

	// Of a throw-away server only:
	bin  string    // the directory of PostgreSQL's programs
	dir  string    // the temporary directory: data/, the socket, the log
	cmd  *exec.Cmd // the postmaster
	done chan struct{}

	mu    sync.Mutex // guards admin, which is one connection
	admin *pgx.Conn  // to the database postgres, for CREATE DATABASE
}

// Start initialises a database cluster in a new temporary directory and
// starts a server on it, listening on a Unix socket in that directory only.
// The caller must Stop it. It returns ErrNotInstalled when PostgreSQL is
// not installed.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	// A Unix socket's path is at most 107 bytes; a long TMPDIR would not do.
	tmp := os.TempDir()
	if len(tmp) > 60 {
		tmp = "/tmp"
	}
	dir, err := os.MkdirTemp(tmp, "pgtest-")
	if err != nil {
		return nil, err
	}
	s, err := start(bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(bin, dir string) (*Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cred, err := serverUser(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", superuser, "--auth=trust", "--encoding=UTF8", "--no-locale",
		// The cluster is thrown away: what initdb writes need not be flushed.
		"--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}

	s := &Server{bin: bin, dir: dir}
	if err := s.run(ctx, cred); err != nil {
		return nil, err
	}
	return s, nil
}

// run starts the postmaster on s.dir and waits until it accepts
// connections.
func (s *Server) run(ctx context.Context, cred *syscall.Credential) error {
	logFile, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if cred != nil {
		os.Chown(logFile.Name(), int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-c", "listen_addresses=", // no TCP at all
		"-c", "unix_socket_directories="+s.dir,
		"-c", "shared_buffers=16MB",
		"-c", "max_connections=200",
		// fsync stays on: the stores' tests are about durability.
		"-c", "logging_collector=off",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stopWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	q := url.Values{"host": {s.dir}, "sslmode": {"disable"}}
	s.base = &url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/postgres", RawQuery: q.Encode()}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() {
		cmd.Wait()
		close(done)
	}()

	// Connect until the server accepts connections.
	for {
		admin, err := pgx.Connect(ctx, s.url("postgres"))
		if err == nil {
			s.mu.Lock()
			s.admin = admin
			s.mu.Unlock()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited at start: %v\n%s", cmd.ProcessState, s.log())
		case <-ctx.Done():
			s.Stop()
			return fmt.Errorf("postgres did not accept connections within %v: %v\n%s", startTimeout, err, s.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Restart ends the server as a crash would (an immediate shutdown: no
// checkpoint, connections cut), then starts it again on the same data,
// which it recovers from its write-ahead log, and returns once it accepts
// connections. For tests of what clients see when the database goes away.
func (s *Server) Restart() error {
	if s.cmd == nil {
		return errors.New("pgtest: only a server that Start started can be restarted")
	}
	s.mu.Lock()
	if s.admin != nil {
		s.admin.Close(context.Background())
		s.admin = nil
	}
	s.mu.Unlock()
	s.cmd.Process.Signal(syscall.SIGQUIT)
	<-s.done
	cred, err := serverUser(s.dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return s.run(ctx, cred)
}

// findBin returns the directory of the newest PostgreSQL's server programs.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && isFile(filepath.Join(filepath.Dir(p), "postgres")) {
		return filepath.Dir(p), nil
	}
	return "", ErrNotInstalled
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// serverUser returns the credentials to run the server programs with: nil
// (the test's own) unless the test runs as root, which PostgreSQL refuses;
// then the system user postgres's, who is given dir.
func serverUser(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to run as root, but there is no user postgres to run it as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Connect returns the server that rawURL reaches, on which tests will
// create their databases. Stop ends the connection and leaves the server
// running.
func Connect(ctx context.Context, rawURL string) (*Server, error) {
	base, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("PARLEY_TEST_POSTGRES is not a URL")
	}
	s := &Server{base: base}
	if s.admin, err = pgx.Connect(ctx, rawURL); err != nil {
		return nil, fmt.Errorf("connect to PARLEY_TEST_POSTGRES %s: %w", base.Redacted(), err)
	}
	return s, nil
}

// url returns the URL of the database name on the server.
func (s *Server) url(name string) string {
	u := *s.base
	u.Path = "/" + name
	return u.String()
}

// CreateDatabase creates the database name, which must be a plain SQL
// identifier, and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := s.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.url(name), nil
}

func (s *Server) exec(ctx context.Context, sql string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		return errors.New("the server is stopped")
	}
	_, err := s.admin.Exec(ctx, sql)
	return err
}

// Stop stops the server (a fast shutdown: connections are ended) and
// removes its directory.
func (s *Server) Stop() error {
	s.mu.Lock()
	if s.admin != nil {
		s.admin.Close(context.Background())
		s.admin = nil
	}
	s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		err = fmt.Errorf("postgres did not stop within 30s of SIGINT:\n%s", s.log())
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// log returns the end of the server's log.
func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(bytes.TrimSpace(b))
}
