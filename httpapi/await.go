package httpapi

import (
	"bufio"
	"net"
	"net/http"
)

// readBufferSize is the size of a WebSocket's read buffer. The library
// reads through the buffer a hijack returns only when it holds more than
// 256 bytes; client frames are small.
const readBufferSize = 512

// A hijacker gives the WebSocket library, when it hijacks the HTTP
// connection, a read buffer that the socket can see (see socket.await).
type hijacker struct {
	http.ResponseWriter
	conn net.Conn      // set by a successful Hijack
	br   *bufio.Reader // reads conn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // the library refuses a client that spoke too soon
	}
	h.conn, h.br = nc, bufio.NewReaderSize(nc, readBufferSize)
	return nc, bufio.NewReadWriter(h.br, brw.Writer), nil
}
