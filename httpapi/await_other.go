//go:build !unix

package httpapi

// await returns at once where the socket cannot wait in the poller itself:
// the reader waits in the WebSocket library's read.
func (s *socket) await() {}
