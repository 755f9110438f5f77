//go:build !linux

package loadgen

import (
	"net"
	"time"
)

// poller is Linux's; elsewhere a goroutine reads each watched connection.
type poller struct{}

// watch hands c's messages from now on to deliver and its pings' payloads
// to ping, both called with c.mu held, until c ends; c.done then says why.
// Messages that arrived with the handshake's are handed on first.
func watch(c *wsconn, deliver, ping func([]byte)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if open, err := c.begin(deliver, ping); !open {
		return err
	}
	go c.readLoop()
	return nil
}

// unwatch and writeFD are for a poller's connections, of which there are
// none here.
func unwatch(*wsconn) {}

func writeFD(int, []byte, time.Time) error { return net.ErrClosed }
