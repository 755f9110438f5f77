package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// runner is one agent, in this process or in a worker process.
type runner interface {
	connect() (connectResult, error)
	run(ctx context.Context, st step) (map[string]int64, error)
	settle(ctx context.Context, final map[string]int64, timeout time.Duration) (result, error)
	close() error
}

// local runs an agent in this process.
type local struct{ a *agent }

func (l local) connect() (connectResult, error) { return l.a.connect(l.a.members), nil }
func (l local) run(ctx context.Context, st step) (map[string]int64, error) {
	return l.a.run(ctx, st), nil
}
func (l local) settle(ctx context.Context, final map[string]int64, timeout time.Duration) (result, error) {
	return l.a.settle(ctx, final, timeout), nil
}
func (l local) close() error { l.a.close(); return nil }

// The parent and a worker process speak JSON lines: the parent writes a
// command to the worker's standard input, the worker answers with one reply
// on its standard output.
type command struct {
	Op      string           `json:"op"` // plan, connect, run, settle, close
	Plan    *plan            `json:"plan,omitempty"`
	Step    *step            `json:"step,omitempty"`
	Final   map[string]int64 `json:"final,omitempty"`
	Timeout time.Duration    `json:"timeout,omitempty"`
}

type reply struct {
	Err     string           `json:"err,omitempty"`
	Connect *connectResult   `json:"connect,omitempty"`
	Final   map[string]int64 `json:"final,omitempty"`
	Result  *result          `json:"result,omitempty"`
}

// remote is an agent in a worker process.
type remote struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	enc *json.Encoder
	dec *json.Decoder
}

// startRemote starts cmd as a worker and gives it p.
func startRemote(cmd *exec.Cmd, p plan) (*remote, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	r := &remote{cmd: cmd, in: in, enc: json.NewEncoder(in), dec: json.NewDecoder(bufio.NewReader(out))}
	if _, err := r.call(command{Op: "plan", Plan: &p}); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *remote) call(c command) (reply, error) {
	var rep reply
	if err := r.enc.Encode(c); err != nil {
		return rep, fmt.Errorf("worker %d: %w", r.cmd.Process.Pid, err)
	}
	if err := r.dec.Decode(&rep); err != nil {
		return rep, fmt.Errorf("worker %d: %w", r.cmd.Process.Pid, err)
	}
	if rep.Err != "" {
		return rep, fmt.Errorf("worker %d: %s", r.cmd.Process.Pid, rep.Err)
	}
	return rep, nil
}

func (r *remote) connect() (connectResult, error) {
	rep, err := r.call(command{Op: "connect"})
	if err != nil || rep.Connect == nil {
		return connectResult{}, errors.Join(err, errors.New("no connect result"))
	}
	return *rep.Connect, nil
}

func (r *remote) run(_ context.Context, st step) (map[string]int64, error) {
	rep, err := r.call(command{Op: "run", Step: &st})
	return rep.Final, err
}

func (r *remote) settle(_ context.Context, final map[string]int64, timeout time.Duration) (result, error) {
	rep, err := r.call(command{Op: "settle", Final: final, Timeout: timeout})
	if err != nil || rep.Result == nil {
		return result{}, errors.Join(err, errors.New("no settle result"))
	}
	return *rep.Result, nil
}

func (r *remote) close() error {
	r.call(command{Op: "close"})
	r.in.Close()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		r.cmd.Process.Kill()
		return <-done
	}
}

// Worker runs one agent for a parent bench process, reading commands from
// in and writing replies to out, until in ends or ctx is done. It is what
// the hidden worker mode of parley bench runs.
func Worker(ctx context.Context, in io.Reader, out io.Writer) error {
	raiseFileLimit()
	dec := json.NewDecoder(bufio.NewReader(in))
	enc := json.NewEncoder(out)
	var a *agent
	defer func() {
		if a != nil {
			a.close()
		}
	}()
	for {
		var c command
		if err := dec.Decode(&c); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		var rep reply
		switch {
		case c.Op == "plan" && c.Plan != nil:
			var err error
			if a, err = newAgent(ctx, *c.Plan); err != nil {
				rep.Err = err.Error()
			}
		case a == nil:
			rep.Err = "no plan yet"
		case c.Op == "connect":
			res := a.connect(a.members)
			rep.Connect = &res
		case c.Op == "run" && c.Step != nil:
			rep.Final = a.run(ctx, *c.Step)
		case c.Op == "settle":
			res := a.settle(ctx, c.Final, c.Timeout)
			rep.Result = &res
		case c.Op == "close":
			a.close()
			a = nil
		default:
			rep.Err = fmt.Sprintf("unknown command %q", c.Op)
		}
		if err := enc.Encode(rep); err != nil {
			return err
		}
		if c.Op == "close" {
			return nil
		}
	}
}

// all calls f for every runner at once and returns the first error.
func all(rs []runner, f func(i int, r runner) error) error {
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i, r)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
