// Package loadgen is the load generator behind `parley bench`. It speaks the
// WebSocket protocol of docs/PROTOCOL.md exactly as a real client does
// (hello, join with since, send with client ids, acks, resume after a
// dropped connection) and checks the server's delivery promise while it
// measures: for every member it tracks the sequence numbers of the log
// entries it receives and counts those lost, duplicated and out of order.
//
// # Shape
//
// A run is a scenario (idle, fanout, rooms, history, churn) of steps. Its
// simulated people, members, are spread over agents: one in this process, or
// one per worker process with --procs, each a child running the same binary
// (see [Worker]) that the parent drives with JSON lines over its standard
// input and output. A step runs on every agent at once: senders take turns
// on schedule, then every agent reports the highest sequence number it saw
// per room, the parent takes the maximum (the room's final entry), and each
// agent waits until its members have everything up to it and reports counts
// and raw latency histograms, which merge exactly.
//
// Connect workers dial, say hello and join for the members; from then on a
// poller reads the connection (on Linux, one goroutine a processor waiting
// in epoll for all the connections it watches, one read a socket that is
// ready), and the member's goroutine only waits for the connection's end to
// reconnect. A few scheduler goroutines per agent do the sending. The
// WebSocket client is the generator's own (wsconn.go), made to cost few
// system calls; events are picked apart by a small scanner (scanEvent), not
// encoding/json, and message buffers are pooled, so the generator leaves
// most of the CPU to the server it measures.
//
// # Latency
//
// A message's client id is "<counter>.<send time>", and its text starts with
// the send time (Unix ns), padded to the message size: send→ack latency
// comes from the ack's client id, send→deliver latency from every delivered
// copy's text. One machine, one clock.
//
// # The server's figures
//
// CPU and resident memory come from the server's own /metrics
// (process_cpu_seconds_total, process_resident_memory_bytes), sampled before
// and after each step, so they work against a remote server too; a server
// without /metrics gets "n/a".
package loadgen
