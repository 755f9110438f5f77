package httpapi

import (
	"testing"
	"time"
)

// SetHelloTimeout shortens the time a connection has to say hello until t
// ends. Call it before starting the server, so that the old value comes
// back only after the server's handlers have returned, and never from a
// test that runs in parallel with others.
func SetHelloTimeout(t *testing.T, d time.Duration) {
	t.Helper()
	old := helloTimeout
	helloTimeout = d
	t.Cleanup(func() { helloTimeout = old })
}
