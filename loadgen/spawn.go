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
	cmd  *exec.Cmd
	dir  string
	addr string // host:port it listens on
	done chan struct{}

	mu   sync.Mutex
	tail []string // its last log lines, for errors
	slow int      // "closing slow client" warnings it logged
}

// spawnServer starts command (the parley binary and the word serve) on a
// free loopback port with a database in a new temporary directory, and
// waits until its log says where it listens.
func spawnServer(ctx context.Context, command []string) (*spawned, error) {
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, err
	}
	args := append(command[1:len(command):len(command)],
		"-addr", "127.0.0.1:0",
		"-database", filepath.Join(dir, "bench.db"),
		"-log-format", "json",
		"-profile", "development",
		"-guests=true",
	)
	cmd := exec.Command(command[0], args...)
	// The temporary directory has no .env files to pick settings up from.
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &spawned{cmd: cmd, dir: dir, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go s.readLog(stderr, addrc)
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	select {
	case s.addr = <-addrc:
		return s, nil
	case <-s.done:
		err = fmt.Errorf("server exited at start: %s", s.lastLines())
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("server did not say where it listens within 30s: %s", s.lastLines())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, err
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

// stop ends the server with SIGTERM (SIGKILL after 15 seconds) and removes
// its directory.
func (s *spawned) stop() error {
	defer os.RemoveAll(s.dir)
	select {
	case <-s.done:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("server did not stop within 15s of SIGTERM; killed")
	}
	return nil
}
