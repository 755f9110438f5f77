package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/protocol"
)

// podmanFlags are the global flags podman needs on machines without
// systemd's cgroup manager and with runc as the only runtime.
var podmanFlags = []string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}

// runFlags are the limits these machines require of a container: they
// refuse podman's defaults.
var runFlags = []string{"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"}

// maxImageSize is the size the docs promise the image stays under.
const maxImageSize = 25 << 20

// TestImage runs the image that PARLEY_TEST_IMAGE names (make image-test
// builds it from the Dockerfile's final stage with a binary built on the
// host, and sets the variable) as an operator would: with a volume, until
// its health check says healthy; chats through the published port; stops
// it with SIGTERM; and finds the history again in a new container on the
// same volume.
func TestImage(t *testing.T) {
	image := os.Getenv("PARLEY_TEST_IMAGE")
	if image == "" {
		t.Skip("set PARLEY_TEST_IMAGE to an image built from the Dockerfile to run (make image-test does)")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatalf("PARLEY_TEST_IMAGE is set, but podman is not installed (Debian: apt-get install podman runc): %v", err)
	}
	p := &podman{t: t}

	// What the image promises, before it runs.
	var inspected []struct {
		Size        int64
		Healthcheck *struct{ Test []string } // podman's place for it
		Config      struct {
			User        string
			Env         []string
			Volumes     map[string]struct{}
			Healthcheck *struct{ Test []string }
			Labels      map[string]string
		}
	}
	if err := json.Unmarshal([]byte(p.run("image", "inspect", image)), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect %s: %v, %d images", image, err, len(inspected))
	}
	config := inspected[0]
	if config.Healthcheck == nil {
		config.Healthcheck = config.Config.Healthcheck // docker's place
	}
	t.Logf("image %s: %d bytes (%.1f MB)", image, config.Size, float64(config.Size)/1e6)
	if config.Size >= maxImageSize {
		t.Errorf("image %s is %d bytes, want under %d (the docs promise it)", image, config.Size, maxImageSize)
	}
	uid, _, _ := strings.Cut(config.Config.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("image %s runs as user %q, want a numeric user other than root", image, config.Config.User)
	}
	if _, ok := config.Config.Volumes["/data"]; !ok {
		t.Errorf("image %s has volumes %v, want /data", image, config.Config.Volumes)
	}
	if hc := config.Healthcheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "/parley health") {
		t.Errorf("image %s has health check %+v, want one that runs /parley health", image, hc)
	}
	version := config.Config.Labels["org.opencontainers.image.version"]
	if got := p.run(append(append([]string{"run", "--rm"}, runFlags...), image, "version")...); !strings.HasPrefix(got, "parley "+version+" ") || version == "" {
		t.Errorf("podman run %s version printed %q, want the version of its label, %q", image, got, version)
	}

	volume := p.volume()
	first := p.start(image, volume)
	first.waitHealthy()
	first.checkNotRoot(uid)

	// Two people chat through the published port.
	ana := dial(t, first.addr, "ana")
	ana.join("general")
	bob := dial(t, first.addr, "bob")
	bob.join("general")
	ack := ana.send("general", "ana-1", "Hello from a container")
	bob.waitFor("ana's message", func(e protocol.Event) bool {
		return e.IsEntry() && e.Seq == ack.Seq && e.Text == "Hello from a container"
	})

	// SIGTERM drains: bob's socket is closed with 1001, and the server
	// exits 0, which it does only when it drained within its shutdown
	// timeout.
	first.stop()
	bob.waitClosed(websocket.CloseGoingAway)

	// A new container on the same volume has the history.
	second := p.start(image, volume)
	second.waitHealthy()
	res, err := http.Get("http://" + second.addr + "/api/rooms/general/messages")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var history struct {
		Entries []protocol.Event `json:"entries"`
	}
	if err := json.Unmarshal(body, &history); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/rooms/general/messages from the second container: %s %s, %v", res.Status, body, err)
	}
	found := false
	for _, e := range history.Entries {
		if e.Seq == ack.Seq && e.Text == "Hello from a container" && e.From == "ana" {
			found = true
		}
	}
	if !found {
		t.Errorf("the second container's history of general is %s; want ana's message with seq %d", body, ack.Seq)
	}
	second.stop()
}

// podman runs podman commands for a test, and removes at its cleanup the
// containers and volumes it made.
type podman struct {
	t *testing.T
}

// run runs podman with args and returns its standard output, trimmed; a
// failure fails the test.
func (p *podman) run(args ...string) string {
	p.t.Helper()
	out, err := p.try(2*time.Minute, args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// try runs podman with args for at most timeout and returns its standard
// output, trimmed, or an error that holds its standard error.
func (p *podman) try(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", append(append([]string(nil), podmanFlags...), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// logs returns what the container wrote to its standard output and
// error, or why it cannot.
func (p *podman) logs(name string) string {
	out, err := exec.Command("podman", append(append([]string(nil), podmanFlags...), "logs", name)...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("podman logs %s: %v\n%s", name, err, out)
	}
	return string(out)
}

// name returns a name for a container or volume that no other run uses.
func (p *podman) name(kind string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "parley-imagetest-" + kind + "-" + hex.EncodeToString(b)
}

// volume creates a named volume, removed at cleanup.
func (p *podman) volume() string {
	p.t.Helper()
	name := p.name("data")
	p.run("volume", "create", name)
	p.t.Cleanup(func() {
		if _, err := p.try(time.Minute, "volume", "rm", "--force", name); err != nil {
			p.t.Error(err)
		}
	})
	return name
}

// container is one container of the image under test.
type container struct {
	p    *podman
	name string
	addr string // host:port published for the container's 8080
}

// start runs the image in the background with volume at /data and its
// port 8080 published on a free loopback port. The container is removed
// at cleanup, its logs shown first when the test failed.
func (p *podman) start(image, volume string) *container {
	p.t.Helper()
	c := &container{p: p, name: p.name("run")}
	args := append([]string{"run", "--detach", "--name", c.name}, runFlags...)
	args = append(args, "--publish", "127.0.0.1::8080", "--volume", volume+":/data", image)
	p.t.Cleanup(func() {
		if p.t.Failed() {
			logs := p.logs(c.name)
			p.t.Logf("logs of container %s:\n%s", c.name, logs)
		}
		if _, err := p.try(time.Minute, "rm", "--force", "--ignore", "--time", "0", c.name); err != nil {
			p.t.Error(err)
		}
	})
	p.run(args...)
	c.addr = p.run("port", c.name, "8080/tcp")
	if c.addr == "" {
		p.t.Fatalf("podman port %s 8080/tcp printed nothing", c.name)
	}
	return c
}

// waitHealthy runs the image's health check until it passes, for a bounded
// while: podman runs it on demand here, as its timers need systemd.
func (c *container) waitHealthy() {
	c.p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.p.try(30*time.Second, "healthcheck", "run", c.name)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.p.t.Fatalf("container %s was not healthy within 30s: %v %s", c.name, err, out)
		}
		time.Sleep(200 * time.Millisecond) // between checks; the loop is bounded
	}
}

// checkNotRoot checks that the server's process runs as uid, seen from
// the host, and that it is not root.
func (c *container) checkNotRoot(uid string) {
	c.p.t.Helper()
	pid := c.p.run("inspect", "--format", "{{.State.Pid}}", c.name)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		c.p.t.Fatalf("the server's process of container %s: %v", c.name, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if name, ids, ok := strings.Cut(line, ":"); ok && (name == "Uid" || name == "Gid") {
			for _, id := range strings.Fields(ids) {
				if id == "0" || (name == "Uid" && id != uid) {
					c.p.t.Errorf("the server of container %s runs with %s, want every id %s and none 0", c.name, line, uid)
				}
			}
		}
	}
}

// stop sends SIGTERM and checks that the server exits 0 within its
// shutdown timeout (8 s in the image) and a margin.
func (c *container) stop() {
	c.p.t.Helper()
	c.p.run("kill", "--signal", "TERM", c.name)
	code, err := c.p.try(20*time.Second, "wait", c.name)
	if err != nil {
		c.p.t.Fatalf("container %s did not stop within 20s of SIGTERM: %v", c.name, err)
	}
	if code != "0" {
		c.p.t.Errorf("container %s exited with status %s after SIGTERM, want 0 (a clean drain)", c.name, code)
	}
	if logs := c.p.logs(c.name); !strings.Contains(logs, "msg=stopped") {
		c.p.t.Errorf("container %s's logs do not say it stopped:\n%s", c.name, logs)
	}
}

// client is one WebSocket client, used by one goroutine.
type client struct {
	t    *testing.T
	conn *websocket.Conn
	nick string
}

// dial opens a WebSocket to addr and says hello as nick.
func dial(t *testing.T, addr, nick string) *client {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial ws://%s/ws: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, nick: nick}
	c.write(protocol.Frame{Type: protocol.FrameHello, V: protocol.Version, Nick: nick})
	c.waitFor("welcome", func(e protocol.Event) bool { return e.Type == protocol.EventWelcome })
	return c
}

func (c *client) write(f protocol.Frame) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, f.Encode()); err != nil {
		c.t.Fatalf("%s: write %s: %v", c.nick, f.Encode(), err)
	}
}

func (c *client) join(room string) {
	c.t.Helper()
	zero := int64(0)
	c.write(protocol.Frame{Type: protocol.FrameJoin, Room: room, Since: &zero})
	c.waitFor("joined", func(e protocol.Event) bool { return e.Type == protocol.EventJoined })
}

func (c *client) send(room, clientID, text string) protocol.Event {
	c.t.Helper()
	c.write(protocol.Frame{Type: protocol.FrameSend, Room: room, ClientID: clientID, Text: text})
	return c.waitFor("ack of "+clientID, func(e protocol.Event) bool { return e.Type == protocol.EventAck && e.ClientID == clientID })
}

// waitFor reads events until one matches, failing on an error event.
func (c *client) waitFor(what string, match func(protocol.Event) bool) protocol.Event {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("%s: waiting for %s: %v", c.nick, what, err)
		}
		events, err := protocol.DecodeEvents(msg)
		if err != nil {
			c.t.Fatal(err)
		}
		for _, e := range events {
			if e.Type == protocol.EventError {
				c.t.Fatalf("%s: waiting for %s: error %s: %s", c.nick, what, e.Code, e.Message)
			}
			if match(e) {
				return e
			}
		}
	}
}

// waitClosed reads until the server closes the socket, and checks the
// close code.
func (c *client) waitClosed(code int) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, _, err := c.conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			c.t.Errorf("%s: the socket ended with %v, want close code %d", c.nick, err, code)
		}
		return
	}
}
