// Package redis carries the hub's publications between replicas over Redis
// pub/sub. [Broker] satisfies hub.Broker without importing package hub:
// cmd/parley passes it to hub.New, which is the compile-time check. It
// adapts Redis to the hub's contract and knows nothing of rooms but their
// names, nor of what a publication holds.
//
// # Channels
//
// Each room with subscribers on this replica has one Redis channel,
// parley:room: followed by the room's name with every byte but ASCII
// letters, digits and -._~ percent-encoded (see channelName): a room's
// name may hold any printable character, and a channel's then holds no
// space, no ':' that could meet another namespace, and no glob character.
// All of them are subscribed on one pub/sub connection, shared by the
// rooms; a channel is unsubscribed when its last local subscriber leaves.
// Subscribing and unsubscribing never wait for Redis: [Broker.Run] does it
// in the background.
//
// # Loss, and how it is repaired
//
// Redis pub/sub is at-most-once: what is published while a replica's
// subscription is not in place, because its connection is down or its
// SUBSCRIBE is still on the way, never reaches it. Every time Redis
// confirms a subscription, the first one of a channel or one that go-redis
// made again after reconnecting, the broker calls each subscriber of the
// channel with a nil publication: publications may have been lost, catch up
// from the store (the hub.Broker contract). What is published after the
// confirmation arrives.
//
// Publish fails when Redis does not answer within a second. The hub then
// publishes the room's newest entry again until it goes through, so that
// the other replicas learn of it, or of the gap before it.
//
// # A replica's own subscribers
//
// Publish delivers a publication to this replica's own subscribers itself,
// before it sends it to Redis, as hub.Local does; the echo that Redis sends
// back is dropped. So a replica whose Redis is down or slow still serves the
// people connected to it, with no round trip to Redis on the way, and only
// the other replicas wait for Redis. Every payload begins with the
// publishing broker's origin, 16 random hex digits and a space, by which a
// broker knows its own echo: the hub would drop a repeated entry by its
// sequence number, but not a repeated presence event or typing notice,
// which have none.
//
// # Connection
//
// go-redis's PubSub reconnects by itself when a read or write fails, and
// subscribes again to every channel. [Broker.Run] reads from it, logs when
// the connection is lost and when it is back, waits a little more after
// each failed attempt (up to two seconds), and pings an idle connection
// every five seconds: one whose pong does not come within five more is
// dropped and made again. Run stops only when its context is done.
package redis
