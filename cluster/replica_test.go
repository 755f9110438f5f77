package cluster

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// parleyBinary builds the real binary once for the package's tests.
func parleyBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-cluster-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "parley")
		cmd := exec.Command("go", "build", "-o", binPath, "../cmd/parley")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// replica is one parley serve process.
type replica struct {
	addr string
	args []string
	env  []string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// startReplica runs parley serve on a free loopback port with the given
// extra flags, until the test ends or kill is called.
func startReplica(t *testing.T, flags ...string) *replica {
	t.Helper()
	r := &replica{addr: freeAddr(t)}
	r.args = append([]string{"serve", "-addr", r.addr, "-log-format", "json", "-log-level", "debug"}, flags...)
	for _, kv := range os.Environ() {
		if len(kv) < 7 || kv[:7] != "PARLEY_" {
			r.env = append(r.env, kv)
		}
	}
	r.start(t)
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			t.Logf("replica %s's log:\n%s", r.addr, r.log)
		}
	})
	return r
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(parleyBinary(t), r.args...)
	r.cmd.Env = r.env
	r.log = new(bytes.Buffer)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start parley: %v", err)
	}
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	waitHTTP(t, "http://"+r.addr+"/api/ready")
}

// kill ends the replica with SIGKILL, as a crash would, and waits for it.
func (r *replica) kill() {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
}
