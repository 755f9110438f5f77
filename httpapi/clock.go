package httpapi

import "time"

// A Clock is the WebSocket endpoint's source of time for the protocol's
// timers: the hello timeout and the pings. Production uses the system
// clock; tests pass a fake one, since connections on real sockets cannot
// live in a testing/synctest bubble, and so test the timers at their real
// lengths without waiting for them.
//
// Read and write deadlines on the network connection stay on the system
// clock: the kernel keeps them, and they guard against a stuck network, not
// a rule of the protocol.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, as
	// time.AfterFunc does.
	AfterFunc(d time.Duration, f func()) Timer
}

// A Timer is a Clock's pending call, as *time.Timer is time.AfterFunc's.
type Timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

// systemClock is the Clock of package time.
type systemClock struct{}

func (systemClock) Now() time.Time                            { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
