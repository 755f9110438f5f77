package redistest_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/redistest"
)

// ping sends PING to the server at socket and returns its answer or error.
func ping(socket string) (string, error) {
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

// TestStopAndRestart: a server answers, stops answering once stopped, and
// answers again on the same socket once restarted.
func TestStopAndRestart(t *testing.T) {
	s := redistest.Start(t)
	if !strings.HasPrefix(s.URL(), "unix://") || !strings.HasSuffix(s.URL(), s.Socket()) {
		t.Errorf("URL() = %q, want unix:// and the socket %q", s.URL(), s.Socket())
	}
	if got, err := ping(s.Socket()); got != "+PONG\r\n" || err != nil {
		t.Fatalf("PING = %q, %v; want +PONG", got, err)
	}
	s.Stop()
	if got, err := ping(s.Socket()); err == nil {
		t.Fatalf("PING after Stop = %q, want an error", got)
	}
	s.Stop() // again: nothing to do
	s.Restart()
	if got, err := ping(s.Socket()); got != "+PONG\r\n" || err != nil {
		t.Fatalf("PING after Restart = %q, %v; want +PONG", got, err)
	}
	s.Restart() // while running
	if got, err := ping(s.Socket()); got != "+PONG\r\n" || err != nil {
		t.Fatalf("PING after a second Restart = %q, %v; want +PONG", got, err)
	}
}
