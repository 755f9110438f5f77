package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// serverSample is what the server's /metrics said at one moment.
type serverSample struct {
	at  time.Time
	cpu float64 // process_cpu_seconds_total
	rss float64 // process_resident_memory_bytes
	ok  bool    // false when /metrics is missing or unreadable
}

// metricsURL returns the /metrics address of the server at the WebSocket
// address ws.
func metricsURL(ws string) string {
	u, err := url.Parse(ws)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "wss":
		u.Scheme = "https"
	default:
		u.Scheme = "http"
	}
	u.Path, u.RawQuery = "/metrics", ""
	return u.String()
}

// sampleServer reads the server's CPU time and resident memory from its
// Prometheus metrics. A server without /metrics gives a sample that is not
// ok, not an error: the bench still runs against it.
func sampleServer(ctx context.Context, client *http.Client, addr string) serverSample {
	s := serverSample{at: time.Now()}
	if addr == "" {
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return s
	}
	resp, err := client.Do(req)
	if err != nil {
		return s
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s
	}
	var haveCPU, haveRSS bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			s.cpu, haveCPU = v, true
		case "process_resident_memory_bytes":
			s.rss, haveRSS = v, true
		}
	}
	s.ok = haveCPU && haveRSS
	return s
}

// cores returns the CPU cores the server used between a and b, or nil.
func cores(a, b serverSample) *float64 {
	if !a.ok || !b.ok || !b.at.After(a.at) {
		return nil
	}
	v := (b.cpu - a.cpu) / b.at.Sub(a.at).Seconds()
	return &v
}

func rss(s serverSample) *float64 {
	if !s.ok {
		return nil
	}
	v := s.rss
	return &v
}

func fmtOpt(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

// sampleProcess reads the CPU time and resident memory of the local process
// pid from /proc: the fallback for a spawned server without /metrics.
func sampleProcess(pid int) serverSample {
	s := serverSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s
	}
	// The command name, in parentheses, may hold spaces; fields follow it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 22 {
		return s
	}
	utime, err1 := strconv.ParseFloat(f[11], 64) // field 14 of proc(5)
	stime, err2 := strconv.ParseFloat(f[12], 64) // field 15
	pages, err3 := strconv.ParseFloat(f[21], 64) // field 24, rss
	if err1 != nil || err2 != nil || err3 != nil {
		return s
	}
	const ticks = 100 // USER_HZ on Linux
	s.cpu = (utime + stime) / ticks
	s.rss = pages * float64(os.Getpagesize())
	s.ok = true
	return s
}

// hostSample is this machine's idle CPU time from /proc/stat, in seconds.
type hostSample struct {
	at   time.Time
	idle float64 // idle and iowait, all processors
	cpus int
	ok   bool
}

// sampleHost reads the machine's idle time. The busy time is what the
// processors were not idle: /proc/stat's user, system and other busy
// columns are sampled, one tick at a time, on the processor the tick
// interrupts, and a virtual processor that the hypervisor does not run
// misses ticks (a tickless kernel also skips them in short busy spells
// between idle ones), so their sum came out below the CPU time of the
// processes measured (which the scheduler counts by the clock), while
// idle time is measured by the clock when a processor goes idle and
// comes back.
func sampleHost() hostSample {
	h := hostSample{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return h
	}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			break
		}
		if i > 0 {
			h.cpus++
			continue
		}
		// cpu user nice system idle iowait ...
		if f[0] != "cpu" || len(f) < 6 {
			return h
		}
		idle, err1 := strconv.ParseFloat(f[4], 64)
		iowait, err2 := strconv.ParseFloat(f[5], 64)
		if err1 != nil || err2 != nil {
			return h
		}
		h.idle = (idle + iowait) / 100 // USER_HZ
	}
	h.ok = h.cpus > 0
	return h
}

// hostCores returns the cores busy on this machine between a and b, all
// processes together, or nil.
func hostCores(a, b hostSample) *float64 {
	if !a.ok || !b.ok || !b.at.After(a.at) || a.cpus != b.cpus {
		return nil
	}
	secs := b.at.Sub(a.at).Seconds()
	v := max(float64(b.cpus)-(b.idle-a.idle)/secs, 0)
	return &v
}
