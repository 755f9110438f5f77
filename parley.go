// Package parley is the domain of Parley, a self-hosted real-time chat
// server: rooms, their logs, members, sessions, the errors users see and
// their codes, the name rules, and the Store contract that every storage
// adapter fulfils. It must do no I/O and import nothing outside the
// standard library (deps_test.go checks it).
//
// # The system on one page
//
// A person or a bot opens one WebSocket to /ws (package httpapi) and says
// hello: with a nickname, which starts a [Session] in the store, or with
// the token of a session it has. Then it joins rooms by name. Everything a
// late reader must see to reconstruct a room is an [Entry] of the room's
// log: messages, edits and deletions of them, joins and leaves. Each entry
// gets the room's next sequence number in the transaction that stores it
// (package sqlite or postgres,
// behind the [Store] interface), so numbers are gapless per room and order
// is the store's, never a client's clock.
//
// A message travels like this:
//
//	socket reader → hub.Client.Send → Store.Append (group commit) → ack to sender
//	             → hub.Broker.Publish → every replica's hub → each local member's
//	               bounded queue → its writer → socket
//
// The broker is in the process for one replica (hub.Local), or Redis
// pub/sub for several (package redis), which may lose publications: a
// replica fills what it missed from the store.
//
// The hub (package hub) encodes each entry to its wire frame (package
// protocol) once, whatever the number of recipients, and a connection's
// writer sends several queued frames in one WebSocket message. A member whose queue overflows is closed
// with the "too slow" close code and resumes from the store. A member that
// rejoins says the last sequence number it saw; the hub replays the rest
// from the store, then continues live, with no gap and no duplicate.
//
// Shutdown (SIGTERM) stops accepting connections, closes every WebSocket
// with 1001 (going away), lets in-flight appends commit, closes the store,
// and exits. Clients reconnect and resume.
//
// cmd/parley wires the parts together; nothing else sees everything.
package parley
