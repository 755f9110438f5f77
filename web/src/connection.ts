// ChatClient is the web client's connection to a Parley server and its view
// of every room this person has open. It speaks the WebSocket protocol of
// docs/PROTOCOL.md through protocol.ts, reads history through rest.ts, keeps
// each room's log in a RoomLog (roomlog.ts), and adds what needs a socket,
// timers or storage: hello and resuming with the session, reconnecting with
// backoff, the outbox of messages not yet acknowledged, filling gaps,
// presence, typing, unread counts, and what is kept in the browser: the
// identity (nickname and session) in localStorage, shared by every tab and
// kept across a browser restart, and each tab's open rooms and outbox in its
// sessionStorage, kept across a reload.
//
// Two kinds of people use it. A guest picks a nickname; the server's
// session token comes in welcome and is kept in the identity. An account
// signs in over REST; its session is an HttpOnly cookie that no script
// reads, so the identity keeps only its name and that it is an account, and
// its hello names neither nick nor session: the server takes the cookie of
// the upgrade request. When an account's session ends anywhere (signed out,
// revoked, password changed, account deactivated), the server closes its
// sockets with 1000, or refuses the next hello, and every tab goes back to
// the sign-in screen with a notice.
//
// This module and rest.ts are the only ones that reach the network.
// Components never touch the WebSocket: they read ChatClient.getState() (an
// immutable snapshot, via useSyncExternalStore) and call its methods.
//
// Everything the client needs from the outside world (WebSocket, fetch,
// timers, randomness, the clock, storage) is injected, so the protocol logic
// is tested without a server, a browser or real time.

import {
  CloseCode,
  DEFAULT_LIMITS,
  ErrorCode,
  PROTOCOL_VERSION,
  decodeEvents,
  encodeFrame,
  type AckEvent,
  type ClientFrame,
  type Entry,
  type ErrorEvent,
  type JoinedEvent,
  type Limits,
  type PresenceChangesEvent,
  type PresenceEvent,
  type ReadEvent,
  type ServerEvent,
  type TypingEvent,
  type WelcomeEvent,
} from './protocol';
import {
  ApiError,
  addMember,
  changePassword,
  createPrivateRoom as restCreatePrivateRoom,
  deleteRoom as restDeleteRoom,
  updateRoom as restUpdateRoom,
  type RoomChange,
  fetchAllRooms,
  fetchMembers,
  fetchReadMarkers,
  fetchRoomsPage,
  openDirect as restOpenDirect,
  removeMember,
  createToken,
  errorText,
  fetchEntries,
  fetchMe,
  fetchRooms,
  fetchServerInfo,
  fetchSessions,
  revokeSession,
  signIn as restSignIn,
  signOut as restSignOut,
  signUp as restSignUp,
  updateAccount,
  type Account,
  type FetchFn,
  type NewToken,
  type Room,
  type RoomMember,
  type RoomsPage,
  type RoomView,
  type ServerInfo,
  type SessionInfo,
} from './rest';
import { RoomLog } from './roomlog';
import { kindOf, roomLabel, unreadCount, type RoomMeta } from './rooms';
import type { RoomKind } from './rest';

// ---------------------------------------------------------------------------
// Injected dependencies.

/** WebSocketLike is the part of the browser WebSocket the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketCtor = new (url: string) => WebSocketLike;

export type TimerId = unknown;

/** StorageLike is the part of Web Storage (localStorage, sessionStorage) the client uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Deps {
  WebSocket: WebSocketCtor;
  fetch: FetchFn;
  setTimeout: (fn: () => void, ms: number) => TimerId;
  clearTimeout: (id: TimerId) => void;
  /** random returns a number in [0, 1), like Math.random. */
  random: () => number;
  /** now returns milliseconds since the epoch, like Date.now. */
  now: () => number;
  randomUUID: () => string;
  /**
   * storage keeps this tab's own state across a reload: its open rooms, the
   * one in view, the outbox. In the browser, sessionStorage.
   */
  storage: StorageLike | null;
  /**
   * identity keeps who this person is, the nickname and the session, for
   * every tab of the origin and across a browser restart. In the browser,
   * localStorage.
   */
  identity: StorageLike | null;
  /** wsURL is the WebSocket endpoint, e.g. ws://localhost:8080/ws. */
  wsURL: string;
  /** apiBase prefixes REST paths; "" means the page's origin. */
  apiBase: string;
  /**
   * attention reports whether the person can see the page: it is visible
   * and the window has focus. Only then is the room in view marked read.
   */
  attention: () => boolean;
}

function browserDeps(): Deps {
  const loc = globalThis.location;
  const wsURL = loc ? `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws` : 'ws://localhost:8080/ws';
  // Without localStorage the identity lasts as long as the tab; without
  // sessionStorage too, as long as the page.
  const storage = webStorage(() => globalThis.sessionStorage);
  const identity = webStorage(() => globalThis.localStorage) ?? storage;
  return {
    WebSocket: globalThis.WebSocket as unknown as WebSocketCtor,
    fetch: (input, init) => globalThis.fetch(input, init),
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
    random: Math.random,
    now: Date.now,
    randomUUID: () => globalThis.crypto.randomUUID(),
    storage,
    identity,
    wsURL,
    apiBase: '',
    attention: () => {
      const doc = globalThis.document;
      return !doc || (doc.visibilityState === 'visible' && doc.hasFocus());
    },
  };
}

/** webStorage returns the storage get returns, or null where storage is disabled (reading it then throws). */
function webStorage(get: () => StorageLike | undefined): StorageLike | null {
  try {
    return get() ?? null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Tunables.

export const HISTORY_PAGE = 50;
export const GAP_PAGE = 200;
export const TYPING_SEND_INTERVAL = 3000;
export const TYPING_SHOW_FOR = 5000;
export const ACK_TIMEOUT = 10000;
const GAP_RETRY = 1000;
const BACKOFF_BASE = 500;
const BACKOFF_MAX = 30000;
const RATE_LIMIT_PAUSE = 5000;
/**
 * After the server says it is going away (1001: a restart or a deploy), it,
 * or another replica, is usually back within seconds: for this long the
 * waits between attempts stay short (at most RESTART_BACKOFF_MAX, ±50%)
 * rather than doubling, so a tab is back about a second after the server.
 */
const RESTART_WINDOW = 30_000;
const RESTART_BACKOFF_MAX = 1000;
/** A ping goes out after this long without hearing from the server. */
const PING_AFTER = 20000;
/** The connection is given up as dead after this long without a word. */
const DEAD_AFTER = 45000;
const HEARTBEAT_TICK = 5000;
/** A room's read marker is sent at most this often (docs/PROTOCOL.md, read). */
export const READ_INTERVAL = 1000;
/** TAB_KEY names this tab's state in sessionStorage. */
const TAB_KEY = 'parley';
/** IDENTITY_KEY names the identity in localStorage; the page listens for changes to it. */
export const IDENTITY_KEY = 'parley.identity';
export const DEFAULT_ROOM = 'general';
/** SIGNED_OUT is the notice on the sign-in screen of an account whose session ended elsewhere. */
export const SIGNED_OUT = 'You were signed out.';

/**
 * backoffDelay returns how long to wait before reconnection attempt number
 * attempt (0 for the first): 0.5 s doubling up to 30 s, each randomised by
 * ±50% so that clients dropped together do not all come back together.
 */
export function backoffDelay(attempt: number, random: () => number): number {
  const base = Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** Math.max(0, Math.min(attempt, 30)));
  return base * (0.5 + random());
}

// ---------------------------------------------------------------------------
// State exposed to the UI.

export type ConnectionStatus =
  /** No nickname yet, or signed out, or hello refused. */
  | 'signed-out'
  /** hello sent for a new nickname; waiting for welcome. */
  | 'signing-in'
  | 'online'
  /** Connection lost; a new attempt is scheduled or under way. */
  | 'reconnecting'
  /** Closed for good (for example a binary frame refused), until reconnectNow. */
  | 'disconnected';

export type OutgoingStatus = 'sending' | 'sent' | 'failed';

/** OutgoingOp is what an item of the outbox does: send a message, or edit or delete one. */
export type OutgoingOp = 'send' | 'edit' | 'delete';

/** Outgoing is one of this person's messages, edits or deletions that is not yet in the log view. */
export interface Outgoing {
  readonly clientId: string;
  readonly room: string;
  readonly op: OutgoingOp;
  /** The message an edit or a deletion changes; null for a message. */
  readonly target: number | null;
  /** A message's or an edit's text; "" for a deletion. */
  readonly text: string;
  /** When it was written, ms since the epoch. */
  readonly createdAt: number;
  readonly status: OutgoingStatus;
  /** The server's words, or ours, when status is "failed". */
  readonly error: string | null;
  /** Set once acknowledged. */
  readonly seq: number | null;
  readonly at: string | null;
}

export interface RoomState {
  readonly name: string;
  /** The log entries loaded, contiguous and in ascending order by seq. */
  readonly entries: readonly Entry[];
  /** Own messages not yet seen in entries, in the order they were written. */
  readonly outgoing: readonly Outgoing[];
  /** Own edits and deletions not yet seen in entries, in the order they were made. */
  readonly changes: readonly Outgoing[];
  readonly kind: RoomKind;
  /** The name people see: a private room's title, a direct room's other members. */
  readonly label: string;
  readonly topic: string;
  /** A longer text than the topic; "" when there is none, or the server has none. */
  readonly description: string;
  /** Archived: it can be read, but takes no message, edit or deletion. */
  readonly archived: boolean;
  /** A private room's owner; "" otherwise. */
  readonly owner: string;
  /** A private or direct room's members, once read; empty otherwise. */
  readonly members: readonly string[];
  /** The person's read marker in the room. */
  readonly readSeq: number;
  /** The highest seq received (0 for an empty log, -1 while unknown). */
  readonly last: number;
  readonly hasOlder: boolean;
  readonly loadingOlder: boolean;
  /** True until the first page of history (or the join) is in. */
  readonly loading: boolean;
  readonly error: string | null;
  readonly joined: boolean;
  /** Who is online; empty in a large room, where only the count is known. */
  readonly online: readonly string[];
  /** How many are online. */
  readonly onlineCount: number;
  /** True in a large room: the server names nobody, and onlineCount says how many. */
  readonly large: boolean;
  readonly typing: readonly string[];
  /** Messages of others after the read marker, among those loaded. */
  readonly unread: number;
}

export interface Announcement {
  readonly id: number;
  readonly text: string;
}

export interface ChatState {
  readonly status: ConnectionStatus;
  /** The nickname in use (the server's spelling), or null when signed out. */
  readonly nick: string | null;
  /** Whether this person is a guest or an account; null when signed out. */
  readonly kind: 'guest' | 'account' | null;
  /** The account's details, once read; null for guests and when signed out. */
  readonly account: Account | null;
  /** How the server lets people in (GET /api/server), once read for the sign-in screen. */
  readonly server: ServerInfo | null;
  /** Why the server info could not be read, if it could not. */
  readonly serverError: string | null;
  /** Something to tell on the sign-in screen, such as SIGNED_OUT. */
  readonly signInNotice: string | null;
  /** The nickname to suggest on the sign-in screen. */
  readonly lastNick: string;
  readonly signInError: { readonly code: string; readonly message: string } | null;
  /** A problem to show once (for example a refused room name). */
  readonly notice: string | null;
  readonly rooms: readonly RoomState[];
  readonly current: string | null;
  /** The newest message to announce to screen readers. */
  readonly announcement: Announcement | null;
  /** When the next reconnection attempt is due (ms since the epoch), if any. */
  readonly retryAt: number | null;
  readonly limits: Limits;
}

// ---------------------------------------------------------------------------
// Internal model.

interface OutgoingModel {
  clientId: string;
  room: string;
  op: OutgoingOp;
  target: number | null;
  text: string;
  createdAt: number;
  status: OutgoingStatus;
  error: string | null;
  seq: number | null;
  at: string | null;
  /** The connection number it was last sent on, or 0. */
  sentOn: number;
  /** The server refused it: only the person's retry sends it again. */
  refused: boolean;
  ackTimer: TimerId | null;
}

interface RoomModel {
  name: string;
  log: RoomLog;
  filling: boolean;
  /** The first page of history is being read over REST. */
  fetching: boolean;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  joined: boolean;
  joinSent: boolean;
  online: Set<string>;
  /** How many are online in a large room (where online stays empty); null in any other. */
  onlineCount: number | null;
  typing: Map<string, TimerId>;
  /** The highest read marker sent on this connection (or told by joined). */
  readSent: number;
  /** When the last read frame went, ms since the epoch. */
  readAt: number;
  readTimer: TimerId | null;
  /** Cached snapshot; null when something changed. */
  view: RoomState | null;
}

/** Identity is what every tab shares: who this person is. */
interface Identity {
  /** The session's nickname, or when signed out the last one tried, to suggest. */
  nick?: string;
  /** A guest's session token; none when signed out, or for an account. */
  session?: string;
  /** Signed in with an account, whose session is the browser's cookie. */
  account?: boolean;
}

/** TabState is what one tab keeps across a reload. */
interface TabState {
  /** Whose rooms and outbox these are: they are restored only for this nickname. */
  nick?: string;
  /** The session, kept here by versions before the identity moved to localStorage. */
  session?: string;
  rooms?: string[];
  current?: string;
  outbox?: { clientId: string; room: string; op?: OutgoingOp; target?: number | null; text: string; createdAt: number }[];
}

/** sameNick reports whether a and b are one nickname (the server ignores case). */
function sameNick(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** readJSON returns the object stored under key, or null when there is none or it is unreadable. */
function readJSON(s: StorageLike | null, key: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(s?.getItem(key) ?? 'null');
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * ChatClient owns the connection to a Parley server and the state of the
 * rooms this person has open. Create one per page; call start().
 */
export class ChatClient {
  private readonly d: Deps;
  private listeners = new Set<() => void>();
  private snapshot: ChatState | null = null;

  private status: ConnectionStatus = 'signed-out';
  private nick: string | null = null;
  private kind: 'guest' | 'account' | null = null;
  private account: Account | null = null;
  private server: ServerInfo | null = null;
  private serverError: string | null = null;
  private serverLoading = false;
  private signInNotice: string | null = null;
  /** An account's sign-out is under way: the close that the server sends for it is expected. */
  private signingOut = false;
  private wantNick = '';
  private lastNick = '';
  private session: string | null = null;
  private signInError: { code: string; message: string } | null = null;
  private notice: string | null = null;
  private limits: Limits = DEFAULT_LIMITS;
  private rooms = new Map<string, RoomModel>();
  private order: string[] = [];
  private current: string | null = null;
  private outbox: OutgoingModel[] = [];
  private announcement: Announcement | null = null;
  private announceSeq = 0;

  private ws: WebSocketLike | null = null;
  /** Connection number, incremented for each new socket. */
  private conn = 0;
  private greeted = false;
  /** Whether a welcome was ever received with the current nickname. */
  private welcomed = false;
  private attempt = 0;
  /** When the server last closed with 1001 (going away), until a welcome. */
  private goneAwayAt: number | null = null;
  private retryTimer: TimerId | null = null;
  private retryAt: number | null = null;
  private heartbeat: TimerId | null = null;
  private lastHeard = 0;
  private pingSent = false;
  private typingSent = new Map<string, number>();
  /** What the server said of each room it listed or made (kind, title, topic, owner, members). */
  private meta = new Map<string, RoomMeta>();
  /** The person's read marker in each room, the highest known. */
  private markers = new Map<string, number>();
  /** The REST API with this person's session: a guest's token as a bearer token; an account's cookie goes by itself. */
  private readonly api: FetchFn = (input, init) => {
    if (this.kind !== 'guest' || !this.session) return this.d.fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set('Authorization', `Bearer ${this.session}`);
    return this.d.fetch(input, { ...init, headers });
  };
  private disposed = false;

  constructor(deps: Partial<Deps> = {}) {
    this.d = { ...browserDeps(), ...deps };
  }

  // ---- subscription (useSyncExternalStore) ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ChatState => {
    if (!this.snapshot) this.snapshot = this.buildSnapshot();
    return this.snapshot;
  };

  private changed(room?: RoomModel): void {
    if (room) room.view = null;
    this.snapshot = null;
    this.saveTab();
    for (const l of [...this.listeners]) l();
  }

  private changedAll(): void {
    for (const r of this.rooms.values()) r.view = null;
    this.changed();
  }

  private buildSnapshot(): ChatState {
    const rooms: RoomState[] = [];
    for (const name of this.order) {
      const r = this.rooms.get(name);
      if (!r) continue;
      if (!r.view) r.view = this.roomView(r);
      rooms.push(r.view);
    }
    return {
      status: this.status,
      nick: this.nick,
      kind: this.kind,
      account: this.account,
      server: this.server,
      serverError: this.serverError,
      signInNotice: this.signInNotice,
      lastNick: this.lastNick,
      signInError: this.signInError,
      notice: this.notice,
      rooms,
      current: this.current,
      announcement: this.announcement,
      retryAt: this.retryAt,
      limits: this.limits,
    };
  }

  private roomView(r: RoomModel): RoomState {
    const mine = this.outbox
      .filter((o) => o.room === r.name)
      .map((o) => ({
        clientId: o.clientId,
        room: o.room,
        op: o.op,
        target: o.target,
        text: o.text,
        createdAt: o.createdAt,
        status: o.status,
        error: o.error,
        seq: o.seq,
        at: o.at,
      }));
    const meta = this.meta.get(r.name);
    const readSeq = this.markers.get(r.name) ?? 0;
    const entries = r.log.entries.slice();
    return {
      name: r.name,
      entries,
      outgoing: mine.filter((o) => o.op === 'send'),
      changes: mine.filter((o) => o.op !== 'send'),
      kind: kindOf(r.name, meta),
      label: roomLabel(r.name, meta, this.nick),
      topic: meta?.topic ?? '',
      description: meta?.description ?? '',
      archived: meta?.archived ?? false,
      owner: meta?.owner ?? '',
      members: meta?.members ?? [],
      readSeq,
      last: r.log.last,
      hasOlder: r.log.older,
      loadingOlder: r.loadingOlder,
      loading: r.loading,
      error: r.error,
      joined: r.joined,
      online: [...r.online].sort((a, b) => a.localeCompare(b)),
      onlineCount: r.onlineCount ?? r.online.size,
      large: r.onlineCount !== null,
      typing: [...r.typing.keys()],
      unread: unreadCount(entries, readSeq, this.nick),
    };
  }

  // ---- persistence ----
  //
  // The identity is written only when it changes (a welcome with a new
  // session, the end of a session), never by a tab merely carrying on, so
  // tabs do not overwrite each other's news. The tab's state is written after
  // every change.

  private saveTab(): void {
    const s = this.d.storage;
    if (!s) return;
    try {
      if (!this.nick) {
        s.removeItem(TAB_KEY);
        return;
      }
      const tab: TabState = {
        nick: this.nick,
        rooms: this.order.slice(),
        current: this.current ?? undefined,
        outbox: this.outbox
          .filter((o) => o.status !== 'sent')
          .map((o) => ({
            clientId: o.clientId,
            room: o.room,
            text: o.text,
            createdAt: o.createdAt,
            ...(o.op === 'send' ? {} : { op: o.op, target: o.target }),
          })),
      };
      s.setItem(TAB_KEY, JSON.stringify(tab));
    } catch {
      // Quota or privacy settings: the tab's rooms just won't survive a reload.
    }
  }

  private loadTab(): TabState {
    return (readJSON(this.d.storage, TAB_KEY) as TabState | null) ?? {};
  }

  /** loadIdentity returns the identity every tab shares, or null when none was ever saved. */
  private loadIdentity(): Identity | null {
    const v = readJSON(this.d.identity, IDENTITY_KEY);
    if (!v) return null;
    return {
      nick: typeof v.nick === 'string' && v.nick ? v.nick : undefined,
      session: typeof v.session === 'string' && v.session ? v.session : undefined,
      account: v.account === true ? true : undefined,
    };
  }

  private saveIdentity(id: Identity): void {
    try {
      this.d.identity?.setItem(IDENTITY_KEY, JSON.stringify(id));
    } catch {
      // The session then lasts as long as this page, as without storage.
    }
  }

  /**
   * releaseIdentity forgets the session ended, keeping the nickname to
   * suggest at sign-in. A session that another tab has saved since is not
   * this tab's to forget.
   */
  private releaseIdentity(ended: string | null, account: string | null): void {
    const id = this.loadIdentity();
    if (id?.session && id.session !== ended) return;
    // Another tab has signed in with another account since.
    if (id?.account && id.nick && !(account && sameNick(id.nick, account))) return;
    const nick = this.lastNick || id?.nick;
    if (nick) this.saveIdentity({ nick });
  }

  // ---- public actions ----

  /**
   * start takes up the session saved by any page of this origin and, if
   * there is one, reconnects with it at once: with the rooms and outbox this
   * tab had before a reload, or in general in a new tab.
   */
  start(): void {
    const tab = this.loadTab();
    let id = this.loadIdentity();
    if (id === null && tab.nick) {
      // The first page of this version in a tab where an earlier one kept
      // the session in sessionStorage. Lost, it would leave the nickname
      // taken, by this very person, for 30 days.
      id = { nick: tab.nick, session: tab.session };
      this.saveIdentity(id);
    }
    this.lastNick = id?.nick ?? '';
    const restore = tab.nick === id?.nick ? tab : {};
    // An account's tab shows the chat at once, while GET /api/account
    // (in resume) says whether the cookie still signs it in. A page without
    // an account in its identity asks nothing: a cookie comes only with a
    // sign-in, which saves the identity, and asking would answer 401, an
    // error in the console, to every new visitor.
    if (id?.nick && id.account) this.resume(id.nick, null, restore);
    else if (id?.nick && id.session) this.resume(id.nick, id.session, restore);
    this.changedAll();
  }

  /**
   * identityChanged takes up, in a signed-out tab, the session that another
   * tab has just saved: the page calls it on the storage event. A tab that is
   * in, or signing in, carries on; the server tells it when its session ends.
   */
  identityChanged(): void {
    if (this.disposed) return;
    const id = this.loadIdentity();
    if (this.kind === 'account' && this.status !== 'signed-out') {
      if (id?.account && id.nick && this.nick && sameNick(id.nick, this.nick)) return;
      // Another tab signed out, or learnt that the session ended: so has
      // this one. (The server closes this tab's socket too; whichever
      // comes first ends it.)
      this.endSession(false);
      this.signInNotice = SIGNED_OUT;
    }
    if (this.status !== 'signed-out') {
      this.changedAll();
      return;
    }
    if (!id?.nick || !(id.session || id.account)) {
      this.changedAll();
      return;
    }
    this.lastNick = id.nick;
    this.signInError = null;
    this.signInNotice = null;
    this.resume(id.nick, id.session ?? null, {});
    this.changedAll();
  }

  /**
   * resume reconnects with a saved session (a guest's token, or for an
   * account, null: the cookie), restoring the rooms and outbox of tab.
   */
  private resume(nick: string, session: string | null, tab: TabState): void {
    this.nick = nick;
    this.wantNick = nick;
    this.session = session;
    this.kind = session ? 'guest' : 'account';
    if (this.kind === 'account') void this.refreshAccount();
    this.welcomed = true; // this person was in: keep trying rather than asking again
    for (const name of tab.rooms ?? []) this.addRoom(name);
    this.addRoom(DEFAULT_ROOM);
    this.current = tab.current && this.rooms.has(tab.current) ? tab.current : DEFAULT_ROOM;
    for (const o of tab.outbox ?? []) {
      if (!this.rooms.has(o.room)) continue;
      this.outbox.push({
        ...o,
        op: o.op ?? 'send',
        target: o.target ?? null,
        status: 'sending',
        error: null,
        seq: null,
        at: null,
        sentOn: 0,
        refused: false,
        ackTimer: null,
      });
    }
    this.status = 'reconnecting';
    this.attempt = 0;
    for (const r of this.rooms.values()) void this.loadInitial(r);
    this.connect();
  }

  /**
   * signIn says hello with nick on a new connection, with the saved session
   * when another tab of this person holds that nickname already (the
   * nickname alone would be refused as taken).
   */
  signIn(nick: string): void {
    this.closeSocket();
    this.wantNick = nick;
    this.lastNick = nick;
    this.nick = null;
    const id = this.loadIdentity();
    this.session = id?.nick && id.session && sameNick(id.nick, nick) ? id.session : null;
    this.kind = 'guest';
    this.welcomed = false;
    this.signInError = null;
    this.signInNotice = null;
    this.status = 'signing-in';
    this.attempt = 0;
    this.connect();
    this.changed();
  }

  /**
   * signOut ends the session (the person leaves every room and the
   * nickname is free at once, and the server closes the session's other
   * connections, its other tabs), closes the connection and forgets the
   * session.
   */
  signOut(): void {
    if (this.kind === 'account') {
      void this.signOutAccount();
      return;
    }
    // signout has no answer, so the socket closes right behind it. It goes
    // behind a hello still unanswered too: the server takes frames in
    // order. A server that predates signout answers unknown_type, to a
    // socket already closed; it ends the session when its grace runs out.
    if (this.ws) this.sendFrame({ type: 'signout' });
    this.endSession();
    this.changedAll();
  }

  /**
   * signOutAccount ends the account's session in this browser (DELETE
   * /api/sessions/current, which also clears the cookie and closes the
   * session's sockets: every tab of this browser), then here. If the server
   * cannot be told, the person stays signed in and is told why.
   */
  private async signOutAccount(): Promise<void> {
    if (this.signingOut) return;
    this.signingOut = true;
    try {
      await restSignOut(this.d.fetch, this.d.apiBase);
    } catch (e) {
      // 401: the session had ended already.
      if (!(e instanceof ApiError && e.status === 401)) {
        this.signingOut = false;
        this.notice = `Could not sign out: ${errorText(e)}`;
        this.changed();
        return;
      }
    }
    this.signingOut = false;
    if (this.kind !== 'account') return; // the server's close came first
    this.endSession();
    this.changedAll();
  }

  /**
   * endSession closes the connection, if any, and forgets the session, in
   * every tab unless release is false, and this tab's rooms.
   */
  private endSession(release = true): void {
    const ended = this.session;
    const account = this.kind === 'account' ? this.nick : null;
    this.closeSocket();
    this.forgetRooms();
    this.nick = null;
    this.session = null;
    this.kind = null;
    this.account = null;
    this.welcomed = false;
    this.status = 'signed-out';
    this.announcement = null;
    if (release) this.releaseIdentity(ended, account);
  }

  // ---- accounts ----

  /** loadServerInfo reads how the server lets people in, for the sign-in screen. */
  async loadServerInfo(): Promise<void> {
    if (this.serverLoading) return;
    this.serverLoading = true;
    try {
      this.server = await fetchServerInfo(this.d.fetch, this.d.apiBase);
      this.serverError = null;
    } catch (e) {
      this.serverError = errorText(e);
    } finally {
      this.serverLoading = false;
    }
    this.changed();
  }

  /**
   * signInAccount signs in with an account's name and password and enters
   * the chat; it rejects with the server's ApiError (a wrong name or
   * password, too many attempts) and changes nothing then.
   */
  async signInAccount(name: string, password: string): Promise<void> {
    const r = await restSignIn(this.d.fetch, name, password, this.d.apiBase);
    this.enterAccount(r.account, r.account.name);
  }

  /** signUp makes an account, signs in with it and enters the chat; it rejects as signInAccount does. */
  async signUp(name: string, password: string, displayName: string): Promise<void> {
    const r = await restSignUp(this.d.fetch, name, password, displayName, this.d.apiBase);
    this.enterAccount(r.account, r.account.name);
  }

  /** enterAccount enters the chat as the account signed in by the browser's cookie, in every tab. */
  private enterAccount(account: Account | null, name: string): void {
    if (this.disposed) return;
    this.closeSocket();
    this.signInError = null;
    this.signInNotice = null;
    this.lastNick = name;
    this.saveIdentity({ nick: name, account: true });
    this.resume(name, null, {});
    this.account = account;
    this.changedAll();
  }

  /**
   * refreshAccount reads the account's details again; when the cookie signs
   * nobody in any more (it ended while no tab was open), it goes back to the
   * sign-in screen and says so.
   */
  async refreshAccount(): Promise<void> {
    const nick = this.nick;
    let me;
    try {
      me = await fetchMe(this.d.fetch, this.d.apiBase);
    } catch {
      return; // Shown as it was; the socket says when the session has ended.
    }
    if (this.kind !== 'account' || this.nick !== nick || this.disposed) return;
    if (me?.kind === 'account' && me.account && nick && sameNick(me.name, nick)) {
      this.account = me.account;
    } else {
      this.endSession();
      this.signInNotice = SIGNED_OUT;
    }
    this.changedAll();
  }

  /** setDisplayName changes the account's display name; it rejects with the server's ApiError. */
  async setDisplayName(displayName: string): Promise<void> {
    const a = await updateAccount(this.d.fetch, displayName, this.d.apiBase);
    if (this.kind === 'account') {
      this.account = a;
      this.changed();
    }
  }

  /**
   * changePassword sets a new password: every other session of the account
   * ends (this browser's stays). It rejects with the server's ApiError.
   */
  async changePassword(current: string, next: string): Promise<void> {
    const a = await changePassword(this.d.fetch, current, next, this.d.apiBase);
    if (this.kind === 'account') {
      this.account = a;
      this.changed();
    }
  }

  /** sessions lists the account's sessions: browsers and bearer tokens. */
  sessions(): Promise<SessionInfo[]> {
    return fetchSessions(this.d.fetch, this.d.apiBase);
  }

  /** revokeSession ends one of the account's sessions; the server closes its connections. */
  revokeSession(id: string): Promise<void> {
    return revokeSession(this.d.fetch, id, this.d.apiBase);
  }

  /** createToken makes a bearer token, whose secret the answer shows this once. */
  createToken(label: string, expiresIn: string): Promise<NewToken> {
    return createToken(this.d.fetch, label, expiresIn, this.d.apiBase);
  }

  /**
   * openRoom joins (creating if need be) the room called name and shows it.
   * The join goes first, without since, and the history below the
   * joined event's lastSeq is read after it, if there is any: the room may
   * not exist until the join creates it, and asking for the history of a
   * room that does not exist is an error (404) in the browser's console.
   */
  openRoom(name: string): void {
    if (!this.nick && this.status !== 'signing-in') return;
    let r = this.rooms.get(name);
    if (!r) {
      r = this.addRoom(name);
      // Not connected yet, the join goes with the next hello (sendJoins).
      if (this.ws && this.greeted) this.sendJoin(r);
    }
    this.selectRoom(name);
  }

  /** selectRoom shows an open room; seen with the page in view, it is read. */
  selectRoom(name: string): void {
    const r = this.rooms.get(name);
    if (!r) return;
    this.current = name;
    this.markRead(r);
    this.changed(r);
  }

  /**
   * attentionChanged is called when the page is shown or hidden, or the
   * window gains or loses focus: the room in view is read once seen.
   */
  attentionChanged(): void {
    const r = this.current ? this.rooms.get(this.current) : undefined;
    if (r && this.markRead(r)) this.changed(r);
  }

  /**
   * markRead marks the room read up to its newest entry when it is in view
   * and the person can see it: the count drops at once, and the read frame
   * goes at most once a second per room, only when the marker moves. It
   * reports whether the marker moved.
   */
  private markRead(r: RoomModel): boolean {
    if (this.current !== r.name || !this.d.attention() || r.log.last <= 0) return false;
    const seq = r.log.last;
    if (seq <= (this.markers.get(r.name) ?? 0)) return false;
    this.markers.set(r.name, seq);
    r.view = null;
    this.flushRead(r);
    return true;
  }

  /** flushRead sends the room's marker when it is ahead of what was sent, now or when the interval allows. */
  private flushRead(r: RoomModel): void {
    const seq = this.markers.get(r.name) ?? 0;
    if (seq <= r.readSent || r.readTimer !== null) return;
    if (!r.joined || !this.ws || !this.greeted) return; // joined says it again
    const wait = r.readAt + READ_INTERVAL - this.d.now();
    if (wait > 0) {
      r.readTimer = this.d.setTimeout(() => {
        r.readTimer = null;
        if (this.rooms.get(r.name) === r) this.flushRead(r);
      }, wait);
      return;
    }
    if (!this.sendFrame({ type: 'read', room: r.name, seq })) return;
    r.readSent = seq;
    r.readAt = this.d.now();
  }

  private onRead(ev: ReadEvent): void {
    this.learnMarker(ev.room, ev.seq);
  }

  /** learnMarker keeps the highest marker known of room: marks made on two tabs may arrive in either order. */
  private learnMarker(room: string, seq: number): void {
    if (!(seq > (this.markers.get(room) ?? 0))) return;
    this.markers.set(room, seq);
    const r = this.rooms.get(room);
    if (r) r.view = null;
  }

  /** leaveRoom stops being a member of the room. */
  leaveRoom(name: string): void {
    const r = this.rooms.get(name);
    if (!r) return;
    // A join sent with the hello is left even before the welcome: the
    // server takes the frames in order.
    if (r.joinSent && this.ws) this.sendFrame({ type: 'leave', room: name });
    this.dropRoomTimers(r);
    this.rooms.delete(name);
    this.order = this.order.filter((n) => n !== name);
    this.outbox = this.outbox.filter((o) => {
      if (o.room !== name) return true;
      this.clearAckTimer(o);
      return false;
    });
    if (this.current === name) this.current = this.order[0] ?? null;
    this.changedAll();
  }

  /**
   * send puts a message in the outbox and sends it when the room is joined.
   * It returns the message's client id.
   */
  send(room: string, text: string): string {
    const id = this.enqueue(room, 'send', null, text);
    // A message ends this person's typing; the next keystroke may say so again.
    this.typingSent.delete(room);
    return id;
  }

  /** edit gives this person's message seq of room a new text, through the outbox like a message. */
  edit(room: string, seq: number, text: string): string {
    // A second edit before the first is in replaces it, unless it is on its way.
    this.outbox = this.outbox.filter((o) => !(o.room === room && o.op === 'edit' && o.target === seq && o.status === 'failed'));
    return this.enqueue(room, 'edit', seq, text);
  }

  /** deleteMessage deletes the message seq of room (one's own; anyone's for an admin or a private room's owner). */
  deleteMessage(room: string, seq: number): string {
    return this.enqueue(room, 'delete', seq, '');
  }

  private enqueue(room: string, op: OutgoingOp, target: number | null, text: string): string {
    const o: OutgoingModel = {
      clientId: this.d.randomUUID(),
      room,
      op,
      target,
      text,
      createdAt: this.d.now(),
      status: 'sending',
      error: null,
      seq: null,
      at: null,
      sentOn: 0,
      refused: false,
      ackTimer: null,
    };
    this.outbox.push(o);
    this.trySend(o);
    this.changed(this.rooms.get(room));
    return o.clientId;
  }

  /** retry sends a failed message again, with its original client id. */
  retry(clientId: string): void {
    const o = this.outbox.find((x) => x.clientId === clientId);
    if (!o || o.status === 'sent') return;
    o.status = 'sending';
    o.error = null;
    o.refused = false;
    o.sentOn = 0;
    this.trySend(o);
    this.changed(this.rooms.get(o.room));
  }

  /** discard drops a message that was not sent. */
  discard(clientId: string): void {
    const o = this.outbox.find((x) => x.clientId === clientId);
    if (!o || o.status === 'sent') return;
    this.clearAckTimer(o);
    this.outbox = this.outbox.filter((x) => x !== o);
    this.changed(this.rooms.get(o.room));
  }

  /** notifyTyping tells the room this person is typing, at most every 3 s. */
  notifyTyping(room: string): void {
    const r = this.rooms.get(room);
    if (!r || !r.joined || !this.ws || !this.greeted) return;
    const now = this.d.now();
    const last = this.typingSent.get(room);
    if (last !== undefined && now - last < TYPING_SEND_INTERVAL) return;
    this.typingSent.set(room, now);
    this.sendFrame({ type: 'typing', room });
  }

  /** loadOlder loads the page of history before the oldest entry loaded. */
  async loadOlder(room: string): Promise<void> {
    const r = this.rooms.get(room);
    if (!r || r.loadingOlder || !r.log.older || !r.log.known) return;
    const before = r.log.before;
    r.loadingOlder = true;
    this.changed(r);
    try {
      const page = await fetchEntries(this.api, room, { before, limit: HISTORY_PAGE }, this.d.apiBase);
      if (this.rooms.get(room) !== r) return;
      r.log.prepend(page);
      r.error = null;
    } catch (e) {
      if (this.rooms.get(room) !== r) return;
      r.error = errorText(e);
    } finally {
      r.loadingOlder = false;
    }
    this.changed(r);
  }

  /** listRooms lists the rooms on the server, for the join box's suggestions. */
  listRooms(): Promise<Room[]> {
    return fetchRooms(this.api, this.d.apiBase);
  }

  /** browseRooms reads a page of the rooms this person may see, for the directory, and keeps what it says of them. */
  async browseRooms(after = ''): Promise<RoomsPage> {
    const page = await fetchRoomsPage(this.api, after, 50, this.d.apiBase);
    for (const room of page.rooms) this.learnRoom(room);
    this.changedAll();
    return page;
  }

  /**
   * refreshRooms reads the list of rooms this person may see (on every
   * welcome: at load and after each reconnection), keeps what it says of
   * each, and opens the private and direct rooms this person is a member
   * of, so that their messages arrive; it reads who is in each direct room,
   * whose name is its members.
   */
  private async refreshRooms(): Promise<void> {
    const nick = this.nick;
    let rooms: Room[];
    try {
      rooms = await fetchAllRooms(this.api, this.d.apiBase);
    } catch {
      return; // Tried again with the next welcome.
    }
    if (this.nick !== nick || !nick) return;
    for (const room of rooms) {
      this.learnRoom(room);
      if (room.kind === 'private' || room.kind === 'direct') {
        if (!this.rooms.has(room.name)) {
          const r = this.addRoom(room.name);
          void this.loadInitial(r);
        }
        if (room.kind === 'direct' && !this.meta.get(room.name)?.members) void this.loadMembers(room.name);
      }
    }
    this.changedAll();
  }

  private learnRoom(room: Room | RoomView): void {
    const old = this.meta.get(room.name);
    this.meta.set(room.name, {
      kind: room.kind ?? 'public',
      title: room.title,
      topic: room.topic,
      owner: room.owner,
      description: room.description,
      archived: room.archivedAt !== undefined && room.archivedAt !== null,
      createdAt: room.createdAt,
      members: old?.members,
    });
  }

  /** loadMembers reads who is in a private or direct room, and returns them. */
  async loadMembers(room: string): Promise<RoomMember[]> {
    const members = await fetchMembers(this.api, room, this.d.apiBase);
    const meta = this.meta.get(room);
    this.meta.set(room, { ...(meta ?? { kind: kindOf(room) }), members: members.map((m) => m.name) });
    this.changedAll();
    return members;
  }

  /** loadMarkers reads the person's read markers (GET /api/read-markers), at load and after each reconnection. */
  private async loadMarkers(): Promise<void> {
    const nick = this.nick;
    try {
      const markers = await fetchReadMarkers(this.api, this.d.apiBase);
      if (this.nick !== nick) return;
      for (const m of markers) this.learnMarker(m.room, m.seq);
      this.changedAll();
    } catch {
      // joined says each room's marker anyway.
    }
  }

  /** createPrivateRoom makes a private room (accounts only) and opens it; it rejects with the server's ApiError. */
  async createPrivateRoom(title: string, topic: string, members: string[], description = ''): Promise<void> {
    const room = await restCreatePrivateRoom(this.api, title, topic, members, this.d.apiBase, description);
    this.learnRoom(room);
    this.openRoom(room.name);
    void this.loadMembers(room.name).catch(() => undefined);
  }

  /** openDirect opens the direct conversation with names (accounts only), making it the first time; it rejects with the server's ApiError. */
  async openDirect(names: string[]): Promise<void> {
    const room = await restOpenDirect(this.api, names, this.d.apiBase);
    this.learnRoom(room);
    this.openRoom(room.name);
    await this.loadMembers(room.name).catch(() => undefined);
  }

  /** addMember adds an account to a private room; it rejects with the server's ApiError. */
  async addMember(room: string, name: string): Promise<void> {
    await addMember(this.api, room, name, this.d.apiBase);
    await this.loadMembers(room).catch(() => undefined);
  }

  /** removeMember removes someone from a private room (oneself: leaves it); it rejects with the server's ApiError. */
  async removeMember(room: string, name: string): Promise<void> {
    await removeMember(this.api, room, name, this.d.apiBase);
    if (this.nick && name.toLowerCase() === this.nick.toLowerCase()) {
      // The server closes this connection with 4003; the room goes now.
      const r = this.rooms.get(room);
      if (r) r.joinSent = false;
      this.meta.delete(room);
      this.leaveRoom(room);
      return;
    }
    await this.loadMembers(room).catch(() => undefined);
  }

  /**
   * updateRoom changes a room's topic, description or title, or archives it
   * or brings it back (PATCH /api/rooms/{room}); it rejects with the
   * server's ApiError. Others see the change at their next load or
   * reconnection, or at once when they try to send to an archived room.
   */
  async updateRoom(room: string, change: RoomChange): Promise<void> {
    const view = await restUpdateRoom(this.api, room, change, this.d.apiBase);
    this.learnRoom(view);
    this.changedAll();
  }

  /**
   * deleteRoom deletes a room with its history (DELETE /api/rooms/{room});
   * it rejects with the server's ApiError. The room goes from this tab at
   * once; the server closes the connection with 4003, and the other tabs
   * forget it when its join answers not_found.
   */
  async deleteRoom(room: string): Promise<void> {
    const label = roomLabel(room, this.meta.get(room), this.nick);
    await restDeleteRoom(this.api, room, this.d.apiBase);
    const r = this.rooms.get(room);
    if (r) r.joinSent = false;
    this.meta.delete(room);
    this.outbox = this.outbox.filter((o) => o.room !== room);
    this.leaveRoom(room);
    this.notice = `“${label}” was deleted.`;
    this.changed();
  }

  /** reconnectNow skips the rest of the backoff wait (for example when the browser comes back online). */
  reconnectNow(): void {
    if (this.status !== 'reconnecting' && this.status !== 'disconnected') return;
    if (this.ws) return;
    this.attempt = 0;
    this.connect();
    this.changed();
  }

  /** clearNotice forgets the notice shown once. */
  clearNotice(): void {
    if (this.notice === null) return;
    this.notice = null;
    this.changed();
  }

  /** dispose closes everything; the client is not used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.closeSocket();
    for (const r of this.rooms.values()) this.dropRoomTimers(r);
    for (const o of this.outbox) this.clearAckTimer(o);
    this.listeners.clear();
  }

  // ---- rooms ----

  private addRoom(name: string): RoomModel {
    const existing = this.rooms.get(name);
    if (existing) return existing;
    const r: RoomModel = {
      name,
      log: new RoomLog(),
      filling: false,
      fetching: false,
      loading: true,
      loadingOlder: false,
      error: null,
      joined: false,
      joinSent: false,
      online: new Set(),
      onlineCount: null,
      typing: new Map(),
      readSent: 0,
      readAt: Number.NEGATIVE_INFINITY,
      readTimer: null,
      view: null,
    };
    this.rooms.set(name, r);
    if (name === DEFAULT_ROOM) this.order.unshift(name);
    else this.order.push(name);
    return r;
  }

  private forgetRooms(): void {
    for (const r of this.rooms.values()) this.dropRoomTimers(r);
    for (const o of this.outbox) this.clearAckTimer(o);
    this.rooms.clear();
    this.order = [];
    this.outbox = [];
    this.current = null;
    this.typingSent.clear();
    this.meta.clear();
    this.markers.clear();
  }

  private dropRoomTimers(r: RoomModel): void {
    for (const t of r.typing.values()) this.d.clearTimeout(t);
    r.typing.clear();
    if (r.readTimer !== null) this.d.clearTimeout(r.readTimer);
    r.readTimer = null;
  }

  /**
   * loadInitial reads the newest page of a room's history over REST, then
   * joins with since set to the newest entry it got (the order the protocol
   * recommends, so nothing falls between the two). It is for rooms known to
   * exist: general, and the rooms a tab had open before a reload, whose
   * history shows before the connection is up.
   */
  private async loadInitial(r: RoomModel): Promise<void> {
    r.loading = true;
    r.fetching = true;
    try {
      const page = await fetchEntries(this.api, r.name, { limit: HISTORY_PAGE }, this.d.apiBase);
      if (this.rooms.get(r.name) !== r) return;
      if (r.log.start(page)) {
        // A message restored from the outbox may have been stored before the
        // reload: it is in the page now, and its resend will be acknowledged.
        const stored = new Set(page.filter((e) => e.from === this.nick && e.clientId).map((e) => e.clientId));
        this.outbox = this.outbox.filter((o) => o.room !== r.name || !stored.has(o.clientId));
      }
      r.error = null;
    } catch (e) {
      if (this.rooms.get(r.name) !== r) return;
      if (e instanceof ApiError && e.status === 404) {
        // The room does not exist yet: joining creates it.
        r.log.startAt(0);
      }
      // Otherwise join without since and take the history from joined.lastSeq.
    } finally {
      r.fetching = false;
    }
    r.loading = !r.log.known;
    if (this.ws && this.greeted) this.sendJoin(r);
    this.changed(r);
  }

  /** sendJoins joins every room not joined on this connection yet. */
  private sendJoins(): void {
    for (const name of this.order) {
      const r = this.rooms.get(name);
      // A room still reading its first page joins when the page is in.
      if (r && !r.fetching) this.sendJoin(r);
    }
  }

  private sendJoin(r: RoomModel): void {
    if (r.joinSent) return;
    r.joinSent = true;
    this.sendFrame(r.log.known ? { type: 'join', room: r.name, since: r.log.last } : { type: 'join', room: r.name });
  }

  // ---- connection ----

  private connect(): void {
    if (this.disposed) return;
    this.clearRetry();
    this.conn++;
    this.greeted = false;
    let ws: WebSocketLike;
    try {
      ws = new this.d.WebSocket(this.d.wsURL);
    } catch {
      this.onClosed(1006);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastHeard = this.d.now();
      // An account's hello names nobody: the server takes the session of
      // the upgrade request's cookie. A guest resuming sends the nickname
      // with the session: the server checks that they match (and servers
      // before sessions in the store need it).
      const hello: ClientFrame = { type: 'hello', v: PROTOCOL_VERSION };
      if (this.kind !== 'account') {
        hello.nick = this.wantNick;
        if (this.session) hello.session = this.session;
      }
      this.sendFrame(hello);
      // Resuming, the joins go right behind the hello: the server answers
      // frames in order, so each room is live a round trip sooner. Were the
      // hello refused, they would change nothing (hello_required).
      if (this.session || this.kind === 'account') this.sendJoins();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.onData(ws, typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.detach(ws);
      this.ws = null;
      this.onClosed(ev.code);
    };
    ws.onerror = () => {
      // A close event follows; it decides what to do.
    };
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
  }

  /** closeSocket closes the connection on purpose: no reconnection follows. */
  private closeSocket(): void {
    this.clearRetry();
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    this.greeted = false;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(CloseCode.Normal);
      } catch {
        // Already closed.
      }
    }
    this.markDisconnected();
  }

  /** drop gives up on a connection that went silent, and reconnects. */
  private drop(): void {
    const ws = this.ws;
    if (!ws) return;
    this.detach(ws);
    this.ws = null;
    try {
      ws.close();
    } catch {
      // Already closed.
    }
    this.onClosed(1006);
  }

  private markDisconnected(): void {
    for (const r of this.rooms.values()) {
      if (r.joined || r.joinSent) r.view = null;
      r.joined = false;
      r.joinSent = false;
      if (r.readTimer !== null) this.d.clearTimeout(r.readTimer);
      r.readTimer = null;
      // Who is online is unknown until the server says again (joined).
      if (r.online.size > 0 || r.onlineCount !== null) {
        r.online.clear();
        r.onlineCount = null;
        r.view = null;
      }
    }
    for (const o of this.outbox) {
      this.clearAckTimer(o);
      o.sentOn = 0;
    }
  }

  private onClosed(code: number): void {
    this.stopHeartbeat();
    const wasGreeted = this.greeted;
    this.greeted = false;
    this.markDisconnected();
    if (this.status === 'signed-out') {
      this.changedAll();
      return;
    }
    if (!this.welcomed && !wasGreeted) {
      // The first hello never got an answer: say so on the sign-in screen.
      this.status = 'signed-out';
      this.signInError = { code: 'unreachable', message: 'The server cannot be reached. Try again in a moment.' };
      this.changedAll();
      return;
    }
    if (wasGreeted && code === CloseCode.Normal) {
      // The server ends a greeted connection normally only when the session
      // has ended: this person signed out, in another tab; or, for an
      // account, the session was revoked, the password changed, the account
      // deactivated.
      const told = this.kind === 'account' && !this.signingOut;
      this.endSession();
      if (told) this.signInNotice = SIGNED_OUT;
      this.changedAll();
      return;
    }
    if (code === CloseCode.Normal || code === CloseCode.Unsupported || code === CloseCode.TooBig) {
      this.status = 'disconnected';
      this.retryAt = null;
      this.changedAll();
      return;
    }
    if (code === CloseCode.GoingAway && wasGreeted) this.goneAwayAt = this.d.now();
    let delay = backoffDelay(this.attempt++, this.d.random);
    if (this.goneAwayAt !== null && this.d.now() - this.goneAwayAt < RESTART_WINDOW) {
      delay = Math.min(delay, RESTART_BACKOFF_MAX * (0.5 + this.d.random()));
    }
    if (code === CloseCode.RateLimited) delay = Math.max(delay, RATE_LIMIT_PAUSE);
    this.status = 'reconnecting';
    this.retryAt = this.d.now() + delay;
    this.retryTimer = this.d.setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      this.connect();
      this.changed();
    }, delay);
    this.changedAll();
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.d.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const tick = () => {
      this.heartbeat = this.d.setTimeout(() => {
        if (!this.ws || !this.greeted) return;
        const idle = this.d.now() - this.lastHeard;
        if (idle >= DEAD_AFTER) {
          this.drop();
          return;
        }
        if (idle >= PING_AFTER && !this.pingSent) {
          this.pingSent = true;
          this.sendFrame({ type: 'ping' });
        }
        tick();
      }, HEARTBEAT_TICK);
    };
    tick();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) this.d.clearTimeout(this.heartbeat);
    this.heartbeat = null;
  }

  private sendFrame(f: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(encodeFrame(f));
      return true;
    } catch {
      return false;
    }
  }

  // ---- incoming ----

  private onData(ws: WebSocketLike, data: string): void {
    this.lastHeard = this.d.now();
    this.pingSent = false;
    for (const item of decodeEvents(data)) {
      if (item.kind === 'entry') this.ingest(item.entry, true);
      else this.onEvent(item.event);
      // An event closed the connection (a refused hello), and may have
      // opened the next: the rest of the message belongs to the old one.
      if (this.ws !== ws) break;
    }
    const r = this.current ? this.rooms.get(this.current) : undefined;
    if (r) this.markRead(r);
    this.changed();
  }

  private onEvent(ev: ServerEvent): void {
    switch (ev.type) {
      case 'welcome':
        return this.onWelcome(ev);
      case 'joined':
        return this.onJoined(ev);
      case 'left':
        return;
      case 'ack':
        return this.onAck(ev);
      case 'online':
      case 'offline':
        return this.onPresence(ev);
      case 'presence':
        return this.onPresenceChanges(ev);
      case 'typing':
        return this.onTyping(ev);
      case 'read':
        return this.onRead(ev);
      case 'rooms':
        // Added to a private room, or a direct conversation was made:
        // read the rooms again, which opens it.
        void this.refreshRooms();
        return;
      case 'pong':
        return;
      case 'error':
        return this.onError(ev);
    }
  }

  private onWelcome(ev: WelcomeEvent): void {
    this.greeted = true;
    this.welcomed = true;
    this.attempt = 0;
    this.goneAwayAt = null;
    this.nick = ev.nick;
    this.wantNick = ev.nick;
    this.lastNick = ev.nick;
    if (this.kind === 'account') {
      // The cookie's session: its name is in the identity already, unless
      // the server spells it otherwise.
      if (ev.nick !== this.loadIdentity()?.nick) this.saveIdentity({ nick: ev.nick, account: true });
    } else if (ev.session) {
      // A new session is this person's in every tab from now on. One that
      // was resumed is saved already.
      this.kind = 'guest';
      if (ev.session !== this.session) this.saveIdentity({ nick: ev.nick, session: ev.session });
      this.session = ev.session;
    }
    this.signInError = null;
    if (ev.limits) this.limits = { ...DEFAULT_LIMITS, ...ev.limits };
    this.status = 'online';
    this.startHeartbeat();
    if (!this.rooms.has(DEFAULT_ROOM)) {
      const r = this.addRoom(DEFAULT_ROOM);
      void this.loadInitial(r);
    }
    if (this.current === null) this.current = DEFAULT_ROOM;
    this.sendJoins();
    void this.refreshRooms();
    void this.loadMarkers();
    this.changedAll();
  }

  private onJoined(ev: JoinedEvent): void {
    const r = this.rooms.get(ev.room);
    if (!r) return;
    r.joined = true;
    if (typeof ev.readSeq === 'number') {
      this.learnMarker(r.name, ev.readSeq);
      // The server has this marker: a read at or below it would cost nothing, and is not sent.
      r.readSent = ev.readSeq;
    } else {
      r.readSent = 0;
    }
    r.online = new Set(ev.online ?? []);
    // A large room's joined lists nobody and says how many.
    r.onlineCount = ev.online == null && ev.onlineCount !== undefined ? ev.onlineCount : null;
    if (r.log.startAt(ev.lastSeq)) {
      // Joined without since (a room just opened, or one whose history
      // could not be read): live entries start after lastSeq; older ones,
      // if any, come over REST.
      r.loading = false;
      if (r.log.older) void this.loadOlder(r.name);
    }
    r.view = null;
    // What was read while the connection was down goes now.
    this.flushRead(r);
    // Resend everything not acknowledged, with its original client id: a
    // message stored before the drop is acknowledged again, not stored twice.
    for (const o of this.outbox) {
      if (o.room !== r.name || o.status === 'sent' || o.refused) continue;
      o.status = 'sending';
      o.error = null;
      this.trySend(o);
    }
  }

  private onAck(ev: AckEvent): void {
    const o = this.outbox.find((x) => x.clientId === ev.clientId && x.room === ev.room);
    if (!o) return;
    this.clearAckTimer(o);
    const r = this.rooms.get(ev.room);
    if (r && r.log.last >= ev.seq) {
      // The message event came first: it is already in the log view.
      this.outbox = this.outbox.filter((x) => x !== o);
    } else {
      o.status = 'sent';
      o.error = null;
      o.seq = ev.seq;
      o.at = ev.at;
    }
    if (r) r.view = null;
  }

  private onPresenceChanges(ev: PresenceChangesEvent): void {
    const r = this.rooms.get(ev.room);
    if (!r) return;
    if (ev.onlineCount !== undefined) {
      // The room's presence whole: everyone online, or, in a large room,
      // nobody named and how many there are.
      r.online = new Set(ev.online ?? []);
      r.onlineCount = r.online.size === ev.onlineCount ? null : ev.onlineCount;
    } else {
      for (const nick of ev.online ?? []) r.online.add(nick);
      for (const nick of ev.offline ?? []) r.online.delete(nick);
    }
    r.view = null;
  }

  private onPresence(ev: PresenceEvent): void {
    const change: PresenceChangesEvent = { type: 'presence', room: ev.room };
    change[ev.type] = [ev.nick];
    this.onPresenceChanges(change);
  }

  private onTyping(ev: TypingEvent): void {
    const r = this.rooms.get(ev.room);
    if (!r || ev.from === this.nick) return;
    const old = r.typing.get(ev.from);
    if (old !== undefined) this.d.clearTimeout(old);
    r.typing.set(
      ev.from,
      this.d.setTimeout(() => {
        if (r.typing.delete(ev.from)) this.changed(r);
      }, TYPING_SHOW_FOR),
    );
    r.view = null;
  }

  private onError(ev: ErrorEvent): void {
    if (!this.greeted && this.kind === 'account') {
      // The cookie signs in nobody any more: the session was revoked or
      // signed out elsewhere (and its cookie cleared, so the hello named
      // nobody: invalid_nick, or guests_disabled where guests are off).
      this.endSession();
      if (ev.code === ErrorCode.InvalidSession || ev.code === ErrorCode.InvalidNick || ev.code === ErrorCode.GuestsDisabled) {
        this.signInNotice = SIGNED_OUT;
      } else {
        this.signInError = { code: ev.code, message: ev.message };
      }
      return;
    }
    if (!this.greeted) {
      if (ev.code === ErrorCode.InvalidSession && this.session !== null) {
        // The session is gone (expired, ended, or another nickname's). If
        // another tab has saved a new one for this nickname meanwhile, it is
        // this person's: resume with it. Otherwise forget the session and
        // try once more with the nickname alone, for a new one. Either way
        // keep the rooms and the outbox, and use a new connection, so that
        // the answers to this hello's joins are not taken for answers to
        // the next hello.
        const id = this.loadIdentity();
        if (id?.nick && id.session && id.session !== this.session && sameNick(id.nick, this.wantNick)) {
          this.wantNick = id.nick;
          this.session = id.session;
        } else if (id?.nick && !id.session && sameNick(id.nick, this.wantNick)) {
          // Another tab signed this person out while this one was away
          // (it kept only the nickname to suggest): stay signed out rather
          // than sign back in with a new session.
          this.endSession();
          return;
        } else {
          this.releaseIdentity(this.session, null);
          this.session = null;
        }
        this.closeSocket();
        this.connect();
        return;
      }
      // hello was refused: nothing will work on this connection.
      this.endSession();
      this.signInError = { code: ev.code, message: ev.message };
      // The sign-in screen then offers what the server takes instead.
      if (ev.code === ErrorCode.GuestsDisabled) void this.loadServerInfo();
      return;
    }
    if (ev.clientId) {
      const o = this.outbox.find((x) => x.clientId === ev.clientId && (!ev.room || x.room === ev.room));
      if (o && o.status !== 'sent') {
        this.clearAckTimer(o);
        o.status = 'failed';
        o.error = ev.message || ev.code;
        o.refused = true;
        o.sentOn = 0;
        const r = this.rooms.get(o.room);
        if (r) r.view = null;
      }
      if (ev.code === ErrorCode.Archived) {
        // The room was archived since it was listed: it is read-only now.
        const name = ev.room ?? o?.room;
        const meta = name ? this.meta.get(name) : undefined;
        if (name) this.meta.set(name, { ...(meta ?? { kind: kindOf(name) }), archived: true });
        this.changedAll();
      }
      return;
    }
    const r = ev.room ? this.rooms.get(ev.room) : undefined;
    switch (ev.code) {
      case ErrorCode.AlreadyJoined:
        if (r) {
          r.joined = true;
          r.view = null;
        }
        return;
      case ErrorCode.BadSince:
        // The server's log is behind ours (a restored database): start the room afresh.
        if (r) {
          r.log.reset();
          r.joinSent = false;
          r.error = null;
          r.view = null;
          void this.loadInitial(r);
        }
        return;
      case ErrorCode.NotFound:
        // A private or direct room one may not see (removed from it, or
        // never in it), or a ~ or @ name no room has: it goes.
        if (r) {
          const label = roomLabel(r.name, this.meta.get(r.name), this.nick);
          const known = this.meta.has(r.name);
          r.joinSent = false;
          this.meta.delete(r.name);
          this.leaveRoom(r.name);
          this.notice = known ? `“${label}” was deleted, or you no longer have access to it.` : ev.message;
        } else {
          this.notice = ev.message;
        }
        return;
      case ErrorCode.InvalidRoom:
        if (r) {
          r.joinSent = false; // the join was refused: there is nothing to leave
          this.leaveRoom(r.name);
        }
        this.notice = ev.message;
        return;
      case ErrorCode.RateLimited:
        // A join refused (too many new rooms, or too many frames) leaves
        // nothing to show, and says why; a dropped typing notice needs
        // no words.
        if (r && !r.joined) {
          r.joinSent = false;
          this.leaveRoom(r.name);
          this.notice = ev.message;
        }
        return;
      default:
        this.notice = ev.message;
    }
  }

  /**
   * ingest takes one log entry into its room's log, and fills the gap over
   * REST when the entry came beyond one.
   */
  private ingest(e: Entry, live: boolean): void {
    const r = this.rooms.get(e.room);
    if (!r) return;
    const { applied, held } = r.log.ingest(e);
    for (const a of applied) this.applied(r, a, live);
    if (held) void this.fillGap(r);
  }

  /** applied acts on an entry that has just entered a room's log. */
  private applied(r: RoomModel, e: Entry, live: boolean): void {
    r.view = null;
    if (e.from === this.nick && e.clientId) {
      // One's own message, edit or deletion is in the log: out of the outbox.
      const o = this.outbox.find((x) => x.clientId === e.clientId && x.room === r.name);
      if (o) {
        this.clearAckTimer(o);
        this.outbox = this.outbox.filter((x) => x !== o);
      }
    }
    if (e.type !== 'message') return;
    const t = r.typing.get(e.from);
    if (t !== undefined) {
      this.d.clearTimeout(t);
      r.typing.delete(e.from);
    }
    if (e.from === this.nick || !live) return;
    if (this.current === r.name) this.announcement = { id: ++this.announceSeq, text: `${e.from}: ${e.text ?? ''}` };
  }

  /** fillGap reads the entries after last from the store until the gap is closed. */
  private async fillGap(r: RoomModel): Promise<void> {
    if (r.filling) return;
    r.filling = true;
    try {
      for (let rounds = 0; r.log.gap && rounds < 50; rounds++) {
        const after = r.log.last;
        const page = await fetchEntries(this.api, r.name, { after, limit: GAP_PAGE }, this.d.apiBase);
        if (this.rooms.get(r.name) !== r) return;
        for (const e of page) this.ingest({ ...e, room: r.name }, true);
        this.changed(r);
        if (r.log.last === after) break; // the store has nothing more yet
      }
    } catch {
      // Tried again below.
    } finally {
      r.filling = false;
    }
    if (r.log.gap && this.rooms.get(r.name) === r) {
      this.d.setTimeout(() => void this.fillGap(r), GAP_RETRY);
    }
  }

  // ---- outbox ----

  private trySend(o: OutgoingModel): void {
    if (o.status !== 'sending' || o.sentOn === this.conn) return;
    const r = this.rooms.get(o.room);
    if (!r || !r.joined || !this.ws || !this.greeted) return;
    const frame: ClientFrame =
      o.op === 'send' || o.target === null
        ? { type: 'send', room: o.room, clientId: o.clientId, text: o.text }
        : o.op === 'edit'
          ? { type: 'edit', room: o.room, seq: o.target, clientId: o.clientId, text: o.text }
          : { type: 'delete', room: o.room, seq: o.target, clientId: o.clientId };
    if (!this.sendFrame(frame)) return;
    o.sentOn = this.conn;
    this.clearAckTimer(o);
    o.ackTimer = this.d.setTimeout(() => {
      o.ackTimer = null;
      if (o.status !== 'sending') return;
      // Keep it in the outbox: a reconnection resends it with the same id.
      o.status = 'failed';
      o.error = o.op === 'send' ? 'The server has not confirmed this message yet.' : 'The server has not confirmed this change yet.';
      o.sentOn = 0;
      this.changed(this.rooms.get(o.room));
    }, ACK_TIMEOUT);
  }

  private clearAckTimer(o: OutgoingModel): void {
    if (o.ackTimer !== null) this.d.clearTimeout(o.ackTimer);
    o.ackTimer = null;
  }
}
