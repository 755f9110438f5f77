package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// spawned is a throw-away server started for one bench run.
type spawned struct {
	command  []string
	dir      string
	database string // the -database flag
	addr     string // host:port it listens on; the same after a restart

	mu   sync.Mutex
	cmd  *exec.Cmd     // the running process; a restart replaces it
	done chan struct{} // closed when cmd has exited
	tail []string      // its last log lines, for errors
	slow int           // "closing slow client" warnings it logged
}

// spawnServer starts command (the parley binary and the word serve) in a
// new temporary directory on a free loopback port, with database, or a
// SQLite database in that directory when database is empty, and waits
// until its log says where it listens.
func spawnServer(ctx context.Context, command []string, database string) (*spawned, error) {
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, err
	}
	if database == "" {
		database = filepath.Join(dir, "bench.db")
	}
	s := &spawned{command: command, dir: dir, database: database}
	if err := s.start(ctx, "127.0.0.1:0"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// start starts the server on addr and waits until its log says where it
// listens.
func (s *spawned) start(ctx context.Context, addr string) error {
	args := append(s.command[1:len(s.command):len(s.command)],
		"-addr", addr,
		"-database", s.database,
		"-log-format", "json",
		"-profile", "development",
		"-guests=true",
		// A load test comes from one address, and measures the server,
		// not its limits against abuse.
		"-limits=false",
	)
	cmd := exec.Command(s.command[0], args...)
	// The temporary directory has no .env files to pick settings up from.
	cmd.Dir = s.dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	addrc := make(chan string, 1)
	go s.readLog(stderr, addrc)
	go func() {
		cmd.Wait()
		close(done)
	}()
	select {
	case s.addr = <-addrc:
		return nil
	case <-done:
		err = fmt.Errorf("server exited at start: %s", s.lastLines())
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("server did not say where it listens within 30s: %s", s.lastLines())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.terminate()
	return err
}

// restart stops the server and starts it again on the same database and
// address, as an operator restarts one.
func (s *spawned) restart(ctx context.Context) error {
	if err := s.terminate(); err != nil {
		return err
	}
	return s.start(ctx, s.addr)
}

// pid returns the running process's id.
func (s *spawned) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// readLog reads the server's JSON log: the listening line gives its
// address; the rest is kept for errors and counted.
func (s *spawned) readLog(r io.Reader, addrc chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		json.Unmarshal([]byte(line), &rec)
		s.mu.Lock()
		if rec.Msg == "closing slow client" {
			s.slow++
		} else {
			s.tail = append(s.tail, line)
			if len(s.tail) > 10 {
				s.tail = s.tail[1:]
			}
		}
		s.mu.Unlock()
		if rec.Msg == "listening" && rec.Addr != "" {
			select {
			case addrc <- rec.Addr:
			default:
			}
		}
	}
	io.Copy(io.Discard, r)
}

func (s *spawned) lastLines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

func (s *spawned) slowClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slow
}

// stop ends the server (terminate) and removes its directory.
func (s *spawned) stop() error {
	defer os.RemoveAll(s.dir)
	return s.terminate()
}

// terminate ends the server with SIGTERM, and SIGKILL after 15 seconds.
func (s *spawned) terminate() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	select {
	case <-done:
		return nil
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		return errors.New("server did not stop within 15s of SIGTERM; killed")
	}
	return nil
}
