// Package redis shares what the hub's replicas must share through Redis:
// [Broker] carries the hub's publications between replicas over Redis
// pub/sub, and [Roster] keeps who is online in each room on every
// replica. They satisfy hub.Broker and hub.Roster without importing
// package hub: cmd/parley passes them to hub.New, which is the
// compile-time check. The package adapts Redis to the hub's contracts and
// knows nothing of rooms but their names, of people but their folded and
// shown nicknames, nor of what a publication holds.
//
// [Limiter] and [Failures] share with every replica the counts of package
// httpapi's limits against abuse and of its sign-in backoff; they satisfy
// httpapi.Limiter and httpapi.FailureStore the same way, and their keys,
// parley:limit:* and parley:fail:*, expire once they count nothing.
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
// # The roster
//
// Who is online where is kept in four kinds of keys, each room's named as
// its channel is (see roomKey), and every entry is a replica's: its
// random id, 16 hex digits, a space, then the person's folded nickname.
//
//   - parley:online:ROOM, a sorted set: each entry of the room, scored by
//     when it expires, in milliseconds since 1970 by Redis's own clock.
//     An entry whose time has come is expired: every read ignores it.
//   - parley:nicks:ROOM, a hash: each entry's nickname as shown.
//   - parley:swept:ROOM, a sorted set: the entries taken off as expired,
//     scored by when, so that their replica learns it; kept a day.
//   - parley:replicas, a sorted set: each replica's id, scored by when it
//     expires; it says which replicas to look at for "elsewhere".
//
// Every command is a Lua script, which runs in one step, with Redis's
// time: the replicas' clocks need not agree. A script touches a room's
// keys and parley:replicas together, so the roster needs one Redis
// server (with replicas of its own or not), not Redis Cluster. Add and Remove write the
// entry and answer whether another live replica has the person, in the
// same step, so that of two replicas whose last connections of a person
// go at once, exactly one finds them online nowhere else.
//
// [Roster.Run] beats every Heartbeat (5 s by default): it sets every
// entry of this replica to expire TTL (15 s by default) later, and, in
// each room that its hub watches, takes off the expired entries of every
// replica. Exactly one replica's script removes each, and it is told
// which people it took off who have no live entry left: they are gone,
// and its hub announces them offline and stores their leaves. So the
// people of a replica that is killed leave the roster's answers within
// TTL of its last heartbeat, and are taken offline within TTL plus
// Heartbeat (20 s by default), provided a live replica has the room. A
// room that no live replica has keeps their entries, and the people
// their memberships, until a replica next has the room (within the day
// the keys live) or restarts (see hub.Hub.Run). A heartbeat that puts
// back an entry that was taken off as expired, because this replica
// could not reach Redis for longer than TTL, tells its hub that the
// person is back; one that puts back an entry that Redis lost, as in a
// restart, says nothing.
//
// A failed Add is repaired by the next heartbeat; the entry of a failed
// Remove expires. Run logs when a heartbeat fails, and when one works
// again. The roster has a connection pool of its own, apart from the
// broker's.
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
