// The wire format of docs/PROTOCOL.md (version 1), in one place: the frames
// a client sends, the events a server sends, the close codes and limits, and
// the codec between them and the text of WebSocket messages. Nothing here
// opens a connection; connection.ts does, and the tests and the end-to-end
// fixtures speak the protocol through this module too.
//
// The types mirror the JSON of package parley (camelCase tags).

/** PROTOCOL_VERSION is the version this client speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * Close codes of the protocol. The server closes a greeted connection with
 * Normal only when its session has ended (a signout, from any connection).
 */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  Unsupported: 1003,
  TooBig: 1009,
  TooSlow: 4000,
  RateLimited: 4001,
  NoHello: 4002,
  /** The person may no longer see a room this connection is in: reconnect, and forget rooms whose join answers not_found. */
  AccessChanged: 4003,
} as const;

/** ErrorCode holds the codes of error events; branch on these, not on messages. */
export const ErrorCode = {
  BadJSON: 'bad_json',
  InvalidUTF8: 'invalid_utf8',
  UnknownType: 'unknown_type',
  HelloRequired: 'hello_required',
  AlreadyGreeted: 'already_greeted',
  UnsupportedVersion: 'unsupported_version',
  InvalidNick: 'invalid_nick',
  NicknameTaken: 'nickname_taken',
  GuestsDisabled: 'guests_disabled',
  /** The session of a hello is unknown, expired or ended, or belongs to another nickname. */
  InvalidSession: 'invalid_session',
  InvalidRoom: 'invalid_room',
  NotJoined: 'not_joined',
  AlreadyJoined: 'already_joined',
  BadSince: 'bad_since',
  InvalidClientID: 'invalid_client_id',
  EmptyMessage: 'empty_message',
  MessageTooLong: 'message_too_long',
  /** join of a private or direct room one may not see, or that does not exist. */
  NotFound: 'not_found',
  InvalidTarget: 'invalid_target',
  NoMessage: 'no_message',
  NotYours: 'not_yours',
  AlreadyDeleted: 'already_deleted',
  /** send, edit or delete in an archived room: it can be read, but takes nothing new. */
  Archived: 'archived',
  InvalidSeq: 'invalid_seq',
  RateLimited: 'rate_limited',
  Internal: 'internal',
} as const;

/** Limits are the server's limits, as welcome states them. */
export interface Limits {
  maxTextBytes: number;
  maxFrameBytes: number;
  maxNickLength: number;
  maxRoomLength: number;
}

/** DEFAULT_LIMITS are the limits of a server that states none. */
export const DEFAULT_LIMITS: Limits = { maxTextBytes: 4096, maxFrameBytes: 16384, maxNickLength: 32, maxRoomLength: 64 };

/** Entry is one item of a room's log (a message, a join, a leave, an edit or a deletion). */
export interface Entry {
  room: string;
  seq: number;
  /** "message", "join", "leave", "edit" or "delete"; later versions may add kinds. */
  type: string;
  from: string;
  /** A message's text as it stands (absent once deleted), or an edit's new text. */
  text?: string;
  /** Edits and deletions: the seq of the message they change. */
  target?: number;
  /** A message's latest edit, whose text it shows. */
  edited?: number;
  /** A deleted message's (or its edits') deletion. */
  deleted?: number;
  clientId?: string;
  /** RFC 3339 time of storing, UTC. */
  at: string;
}

// ---------------------------------------------------------------------------
// Frames the client sends.

export type ClientFrame =
  /**
   * hello starts a new guest session with nick, or resumes the session
   * whose token came in welcome; nick may go with the session too, and must
   * then be the session's nickname. Without either, the session is the
   * upgrade request's: a signed-in browser's cookie.
   */
  | { type: 'hello'; v: typeof PROTOCOL_VERSION; nick?: string; session?: string }
  | { type: 'join'; room: string; since?: number }
  | { type: 'leave'; room: string }
  | { type: 'send'; room: string; clientId: string; text: string }
  | { type: 'edit'; room: string; seq: number; clientId: string; text: string }
  | { type: 'delete'; room: string; seq: number; clientId: string }
  /** read moves the person's read marker in room up to seq; it has no answer. */
  | { type: 'read'; room: string; seq: number }
  | { type: 'typing'; room: string }
  | { type: 'ping' }
  /**
   * signout ends the session at once: the person leaves every room, the
   * nickname is free, and the server closes every connection of the
   * session with CloseCode.Normal. It has no answer.
   */
  | { type: 'signout' };

/** encodeFrame returns the text of the WebSocket message that carries f. */
export function encodeFrame(f: ClientFrame): string {
  return JSON.stringify(f);
}

/**
 * decodeFrame reads a frame as the server would: one JSON object per
 * WebSocket message. It is for tests that play the server; it checks no
 * field.
 */
export function decodeFrame(data: string): ClientFrame {
  return JSON.parse(data) as ClientFrame;
}

// ---------------------------------------------------------------------------
// Events the server sends, other than log entries.

export interface WelcomeEvent {
  type: 'welcome';
  v: number;
  nick: string;
  /** guest, account (a browser's sign-in) or token (a bearer token); absent from older servers, whose sessions are all guests'. */
  kind?: 'guest' | 'account' | 'token';
  /**
   * The session's token, when the hello made it or presented it; absent
   * when the hello used the upgrade request's cookie (an account's browser,
   * which scripts may not read) or bearer token.
   */
  session?: string;
  limits?: Limits;
}
export interface JoinedEvent {
  type: 'joined';
  room: string;
  lastSeq: number;
  /** The person's read marker in the room (0: nothing read); absent from older servers. */
  readSeq?: number;
  /** Who is online; left out in a large room (docs/PROTOCOL.md, Large rooms). */
  online?: string[] | null;
  /** How many are online. */
  onlineCount?: number;
}
export interface LeftEvent {
  type: 'left';
  room: string;
}
export interface AckEvent {
  type: 'ack';
  room: string;
  clientId: string;
  seq: number;
  at: string;
}
export interface PresenceEvent {
  type: 'online' | 'offline';
  room: string;
  nick: string;
}
/** Several people's presence at once: what changed in a busy room lately. */
export interface PresenceChangesEvent {
  type: 'presence';
  room: string;
  online?: string[];
  offline?: string[];
  /** In a large room, where presence names nobody: how many are online. */
  onlineCount?: number;
}
export interface TypingEvent {
  type: 'typing';
  room: string;
  from: string;
}
/** ReadEvent says another connection of this person read room up to seq. */
export interface ReadEvent {
  type: 'read';
  room: string;
  seq: number;
}
/** RoomsEvent says this person may now see room: read the rooms again. */
export interface RoomsEvent {
  type: 'rooms';
  room: string;
}
export interface PongEvent {
  type: 'pong';
}
export interface ErrorEvent {
  type: 'error';
  code: string;
  message: string;
  room?: string;
  clientId?: string;
}

export type ServerEvent =
  | WelcomeEvent
  | JoinedEvent
  | LeftEvent
  | AckEvent
  | PresenceEvent
  | PresenceChangesEvent
  | TypingEvent
  | ReadEvent
  | RoomsEvent
  | PongEvent
  | ErrorEvent;

const eventTypes: ReadonlySet<string> = new Set<ServerEvent['type']>([
  'welcome',
  'joined',
  'left',
  'ack',
  'online',
  'offline',
  'presence',
  'typing',
  'read',
  'rooms',
  'pong',
  'error',
]);

/**
 * Incoming is one decoded line of a server message: a log entry (every
 * event with a seq and a room whose type is not one of the events above,
 * whatever its type), or another event.
 */
export type Incoming = { kind: 'entry'; entry: Entry } | { kind: 'event'; event: ServerEvent };

/**
 * decodeEvents splits one WebSocket message from the server into its events,
 * one per line. Blank lines, lines that are not JSON objects and events of
 * types this version does not know are skipped, as the protocol asks.
 */
export function decodeEvents(data: string): Incoming[] {
  const out: Incoming[] = [];
  for (const line of data.split('\n')) {
    if (!line.trim()) continue;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      continue;
    }
    if (!ev || typeof ev !== 'object') continue;
    const o = ev as Record<string, unknown>;
    if (typeof o.type === 'string' && eventTypes.has(o.type)) {
      out.push({ kind: 'event', event: ev as ServerEvent });
    } else if (typeof o.seq === 'number' && typeof o.room === 'string') {
      out.push({ kind: 'entry', entry: ev as Entry });
    }
  }
  return out;
}

/**
 * encodeEvents returns the text of one WebSocket message carrying events, as
 * the server batches them. It is for tests that play the server, which also
 * send events of types this client does not know, hence the loose type.
 */
export function encodeEvents(events: readonly object[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n');
}
