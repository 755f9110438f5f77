import { describe, expect, it } from 'vitest';
import {
  ACK_TIMEOUT,
  ChatClient,
  IDENTITY_KEY,
  TYPING_SEND_INTERVAL,
  TYPING_SHOW_FOR,
  backoffDelay,
  type StorageLike,
  type WebSocketLike,
} from './connection';
import { decodeFrame, encodeEvents, type ClientFrame, type Entry } from './protocol';

// ---- fakes: a socket the test plays the server on, a clock, REST, storage ----

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: ClientFrame[] = [];
  closedWith: number | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(decodeFrame(data));
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  // The server's side.
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(...events: object[]): void {
    this.onmessage?.({ data: encodeEvents(events) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }
}

class FakeClock {
  t = 1_700_000_000_000;
  private id = 0;
  timers = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.id;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown): void => {
    this.timers.delete(id as number);
  };
  /** advance runs, in order, every timer due within ms. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

class MemoryStorage implements StorageLike {
  m = new Map<string, string>();
  getItem(k: string): string | null {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.m.set(k, v);
  }
  removeItem(k: string): void {
    this.m.delete(k);
  }
}

/** FakeServerLog answers the REST history endpoint from an in-memory log. */
class FakeREST {
  logs = new Map<string, Entry[]>();
  calls: string[] = [];
  /** auth holds the Authorization header of each call, by URL. */
  auth = new Map<string, string | null>();
  /** routes answers other requests, by "METHOD /path"; GET /api/account answers 401 unless set. */
  routes = new Map<string, (body: unknown) => Response>();
  fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    this.calls.push(input);
    this.auth.set(input, new Headers(init?.headers).get('Authorization'));
    const u = new URL(input, 'http://parley.test');
    const route = this.routes.get(`${init?.method ?? 'GET'} ${u.pathname}`);
    if (route) return route(typeof init?.body === 'string' ? JSON.parse(init.body) : undefined);
    if (u.pathname === '/api/account') return json(401, { error: { code: 'unauthenticated', message: 'Sign in first.' } });
    const m = /^\/api\/rooms\/([^/]+)\/messages$/.exec(u.pathname);
    if (!m) return json(404, { error: { code: 'not_found', message: 'Not found.' } });
    const room = decodeURIComponent(m[1]!);
    const log = this.logs.get(room);
    if (!log) return json(404, { error: { code: 'not_found', message: 'Room not found.' } });
    const limit = Number(u.searchParams.get('limit') ?? 50);
    const before = Number(u.searchParams.get('before') ?? 0);
    const after = Number(u.searchParams.get('after') ?? 0);
    let sel = log.filter((e) => e.seq > after && (before === 0 || e.seq < before));
    sel = u.searchParams.has('after') ? sel.slice(0, limit) : sel.slice(-limit);
    return json(200, { room, entries: sel });
  };
  /** history lists the calls that read a room's log, leaving out the room list and the read markers. */
  history(): string[] {
    return this.calls.filter((c) => c.includes('/messages'));
  }
  add(room: string, ...es: Entry[]): void {
    const log = this.logs.get(room) ?? [];
    log.push(...es);
    this.logs.set(room, log);
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function msg(seq: number, from: string, text: string, room = 'general', clientId = `${from}-${seq}`): Entry {
  return { room, seq, type: 'message', from, text, clientId, at: new Date(1_700_000_000_000 + seq * 1000).toISOString() };
}

function joinEntry(seq: number, from: string, room = 'general'): Entry {
  return { room, seq, type: 'join', from, at: new Date(1_700_000_000_000 + seq * 1000).toISOString() };
}

/** flush lets pending promise callbacks (the REST reads) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/**
 * setup makes a ChatClient, one page, with its own fakes. Two setups in one
 * test are two tabs: each has its own sockets (sock() is the tab's newest),
 * clock and REST. FakeSocket.all counts the sockets of every tab since the
 * last setup.
 */
function setup(opts: { random?: () => number; storage?: StorageLike; identity?: StorageLike; browserStorage?: boolean } = {}) {
  FakeSocket.all = [];
  const sockets: FakeSocket[] = [];
  class TabSocket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const clock = new FakeClock();
  const rest = new FakeREST();
  const storage = opts.storage ?? new MemoryStorage();
  const identity = opts.identity ?? new MemoryStorage();
  let uuid = 0;
  /** focus says whether the page is visible and has focus. */
  const focus = { on: true };
  const client = new ChatClient({
    attention: () => focus.on,
    WebSocket: TabSocket,
    fetch: rest.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: opts.random ?? (() => 0.5),
    now: clock.now,
    randomUUID: () => `uuid-${++uuid}`,
    // browserStorage leaves the storage to the browser's defaults.
    ...(opts.browserStorage ? {} : { storage, identity }),
    wsURL: 'ws://parley.test/ws',
    apiBase: 'http://parley.test',
  });
  const sock = (): FakeSocket => sockets[sockets.length - 1]!;
  const room = (name = 'general') => client.getState().rooms.find((r) => r.name === name)!;
  const seqs = (name = 'general') => room(name).entries.map((e) => e.seq);

  /** signIn says hello as nick and answers like the server, up to joined. */
  async function signIn(nick = 'ana', lastSeq?: number, online = [nick]) {
    client.signIn(nick);
    const ws = sock();
    ws.open();
    ws.push({ type: 'welcome', v: 1, nick, session: 'sess-1', limits: { maxTextBytes: 4096, maxFrameBytes: 16384, maxNickLength: 32, maxRoomLength: 64 } });
    await flush();
    const join = ws.framesOf('join').at(-1)!;
    ws.push({ type: 'joined', room: 'general', lastSeq: lastSeq ?? (join.since as number), online });
    return ws;
  }

  /** reconnect lets the backoff run out, opens the new socket and says welcome. */
  async function reconnect(): Promise<FakeSocket> {
    const before = sockets.length;
    clock.advance(60_000);
    expect(sockets.length).toBe(before + 1);
    const ws = sock();
    ws.open();
    ws.push({ type: 'welcome', v: 1, nick: client.getState().nick, session: 'sess-1' });
    await flush();
    return ws;
  }

  return { client, clock, rest, storage, identity, sockets, sock, room, seqs, signIn, reconnect, focus };
}

type Tab = ReturnType<typeof setup>;

/** reload is the same tab after a reload: its session storage and the shared local storage. */
function reload(t: Tab, opts: { random?: () => number } = {}): Tab {
  return setup({ ...opts, storage: t.storage, identity: t.identity });
}

/** newTab is another tab of the same browser: the local storage is shared, the session storage is its own. */
function newTab(t: Tab): Tab {
  return setup({ identity: t.identity });
}

/** identityOf returns the identity the client keeps in local storage, for every tab. */
function identityOf(t: Tab): { nick?: string; session?: string } | null {
  return JSON.parse(t.identity.getItem(IDENTITY_KEY) ?? 'null') as { nick?: string; session?: string } | null;
}

/** tabOf returns what the client keeps in the tab's session storage. */
function tabOf(t: Tab): { nick?: string; session?: string; rooms?: string[]; current?: string; outbox?: { clientId: string }[] } | null {
  return JSON.parse(t.storage.getItem('parley') ?? 'null') as { nick?: string; rooms?: string[] } | null;
}

// ---- tests ----

describe('connecting', () => {
  it('says hello, loads the newest page over REST, then joins general with since = newest seq', async () => {
    const t = setup();
    t.rest.add('general', joinEntry(1, 'bob'), msg(2, 'bob', 'hi'), msg(3, 'bob', 'anyone?'));
    t.client.signIn('ana');
    const ws = t.sock();
    expect(ws.url).toBe('ws://parley.test/ws');
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana' });
    ws.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' });
    await flush();
    expect(t.rest.history()).toEqual(['http://parley.test/api/rooms/general/messages?limit=50']);
    expect(ws.framesOf('join')).toEqual([{ type: 'join', room: 'general', since: 3 }]);
    ws.push({ type: 'joined', room: 'general', lastSeq: 3, online: ['ana', 'bob'] });
    expect(t.client.getState().status).toBe('online');
    expect(t.client.getState().nick).toBe('ana');
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.room().online).toEqual(['ana', 'bob']);
    expect(t.room().hasOlder).toBe(false);
  });

  it('shows how many are online in a large room, where the server names nobody, and the list again once it is small', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.push({ type: 'joined', room: 'general', lastSeq: 0, onlineCount: 4981 });
    expect(t.room().online).toEqual([]);
    expect(t.room().onlineCount).toBe(4981);
    expect(t.room().large).toBe(true);
    ws.push({ type: 'presence', room: 'general', online: [], offline: [], onlineCount: 4997 });
    expect(t.room().onlineCount).toBe(4997);
    expect(t.room().large).toBe(true);
    // Small again: the whole list, and counting it from then on.
    ws.push({ type: 'presence', room: 'general', online: ['ana', 'bob'], offline: ['carol'], onlineCount: 2 });
    expect(t.room().online).toEqual(['ana', 'bob']);
    expect(t.room().large).toBe(false);
    ws.push({ type: 'online', room: 'general', nick: 'dan' });
    expect(t.room().online).toEqual(['ana', 'bob', 'dan']);
    expect(t.room().onlineCount).toBe(3);
  });

  it('reads several events from one WebSocket message, one per line', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.push(joinEntry(1, 'ana'), { type: 'online', room: 'general', nick: 'bob' }, msg(2, 'bob', 'hello'));
    expect(t.seqs()).toEqual([1, 2]);
    expect(t.room().online).toEqual(['ana', 'bob']);
  });

  it('shows a refused hello (nickname_taken) on the sign-in screen and does not retry', async () => {
    const t = setup();
    t.client.signIn('bob');
    const ws = t.sock();
    ws.open();
    ws.push({ type: 'error', code: 'nickname_taken', message: 'The nickname "bob" is taken. Choose another.' });
    const s = t.client.getState();
    expect(s.status).toBe('signed-out');
    expect(s.signInError).toEqual({ code: 'nickname_taken', message: 'The nickname "bob" is taken. Choose another.' });
    expect(ws.closedWith).toBe(1000);
    t.clock.advance(120_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it('says so when the server cannot be reached at sign-in', () => {
    const t = setup();
    t.client.signIn('ana');
    t.sock().drop(1006);
    expect(t.client.getState().status).toBe('signed-out');
    expect(t.client.getState().signInError?.code).toBe('unreachable');
  });

  it('says hello with the saved nickname and session after a reload', async () => {
    const t1 = setup();
    t1.rest.add('general', msg(1, 'bob', 'hi'));
    await t1.signIn('ana', 1);
    t1.client.dispose();

    const t2 = reload(t1);
    t2.rest.add('general', msg(1, 'bob', 'hi'), msg(2, 'bob', 'still here'));
    t2.client.start();
    expect(t2.client.getState().nick).toBe('ana');
    await flush();
    const ws = t2.sock();
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    ws.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' });
    await flush();
    expect(ws.framesOf('join')).toEqual([{ type: 'join', room: 'general', since: 2 }]);
    expect(t2.seqs()).toEqual([1, 2]);
  });

  it('does not reconnect after a normal closure of a connection not greeted yet', async () => {
    const t = setup();
    const ws = await t.signIn();
    ws.drop(1006);
    t.clock.advance(60_000);
    t.sock().open();
    t.sock().drop(1000);
    expect(t.client.getState().status).toBe('disconnected');
    t.clock.advance(120_000);
    expect(FakeSocket.all.length).toBe(2);
  });
});

describe('sessions', () => {
  it('signs out at once when the server closes a greeted connection normally (a signout in another tab)', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    t.client.openRoom('dev');
    ws.drop(1000);
    const s = t.client.getState();
    expect(s.status).toBe('signed-out');
    expect(s.nick).toBeNull();
    expect(s.rooms).toEqual([]);
    expect(s.signInError).toBeNull();
    expect(s.lastNick).toBe('ana');
    expect(identityOf(t)).toEqual({ nick: 'ana' });
    expect(tabOf(t)).toBeNull();
    t.clock.advance(120_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it('sends signout, not one leave per room, then closes and forgets the session', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'));
    const ws = await t.signIn('ana', 1);
    t.client.openRoom('dev');
    await flush();
    ws.push({ type: 'joined', room: 'dev', lastSeq: 0, online: ['ana'] });
    expect(identityOf(t)).toEqual({ nick: 'ana', session: 'sess-1' });
    t.client.signOut();
    expect(ws.sent.at(-1)).toEqual({ type: 'signout' });
    expect(ws.framesOf('leave')).toEqual([]);
    expect(ws.closedWith).toBe(1000);
    const s = t.client.getState();
    expect(s.status).toBe('signed-out');
    expect(s.nick).toBeNull();
    expect(s.rooms).toEqual([]);
    expect(identityOf(t)).toEqual({ nick: 'ana' });
    expect(tabOf(t)).toBeNull();
    // A server that predates signout answers unknown_type; it changes nothing.
    ws.push({ type: 'error', code: 'unknown_type', message: 'Unknown frame type "signout".' });
    ws.drop(1000);
    expect(t.client.getState().status).toBe('signed-out');
    expect(t.client.getState().signInError).toBeNull();
    t.clock.advance(120_000);
    expect(FakeSocket.all.length).toBe(1);
    // The next sign-in starts a new session, with the nickname alone.
    t.client.signIn('ana');
    t.sock().open();
    expect(t.sock().sent).toEqual([{ type: 'hello', v: 1, nick: 'ana' }]);
  });

  it('sends signout right behind a resuming hello still unanswered', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.drop(1006);
    t.clock.advance(60_000);
    const ws2 = t.sock();
    ws2.open();
    t.client.signOut();
    expect(ws2.sent).toEqual([
      { type: 'hello', v: 1, nick: 'ana', session: 'sess-1' },
      { type: 'join', room: 'general', since: 0 },
      { type: 'signout' },
    ]);
    expect(ws2.closedWith).toBe(1000);
    expect(t.client.getState().status).toBe('signed-out');
  });

  it('sends nothing when signing out with no connection', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.drop(1006);
    const n = ws.sent.length;
    t.client.signOut();
    expect(ws.sent.length).toBe(n);
    expect(t.client.getState().status).toBe('signed-out');
    t.clock.advance(120_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it('starts a new session with the nickname alone when the resuming hello gets invalid_session', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'));
    const ws = await t.signIn('ana', 1);
    ws.drop(1006);
    const id = t.client.send('general', 'written while offline');
    t.clock.advance(60_000);
    const ws2 = t.sock();
    ws2.open();
    expect(ws2.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    // The session expired: the hello is refused, and so are the joins behind it.
    ws2.push(
      { type: 'error', code: 'invalid_session', message: 'Your session has ended. Sign in again.' },
      { type: 'error', code: 'hello_required', message: 'Say hello first.', room: 'general' },
    );
    expect(ws2.closedWith).toBe(1000);
    expect(identityOf(t)).toEqual({ nick: 'ana' });
    // At once, with no backoff, on a new connection.
    expect(FakeSocket.all.length).toBe(3);
    const ws3 = t.sock();
    ws3.open();
    expect(ws3.sent).toEqual([{ type: 'hello', v: 1, nick: 'ana' }]);
    ws3.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-2' });
    await flush();
    expect(ws3.framesOf('join')).toEqual([{ type: 'join', room: 'general', since: 1 }]);
    ws3.push({ type: 'joined', room: 'general', lastSeq: 1, online: ['ana'] });
    expect(ws3.framesOf('send')).toEqual([{ type: 'send', room: 'general', clientId: id, text: 'written while offline' }]);
    const s = t.client.getState();
    expect(s.status).toBe('online');
    expect(s.nick).toBe('ana');
    expect(s.signInError).toBeNull();
    expect(t.seqs()).toEqual([1]);
    expect(identityOf(t)).toEqual({ nick: 'ana', session: 'sess-2' });
  });

  it("signs out with the server's message when the new session is refused too", async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.drop(1006);
    t.clock.advance(60_000);
    const ws2 = t.sock();
    ws2.open();
    ws2.push({ type: 'error', code: 'invalid_session', message: 'Your session has ended. Sign in again.' });
    const ws3 = t.sock();
    ws3.open();
    ws3.push({ type: 'error', code: 'nickname_taken', message: 'The nickname "ana" is taken. Choose another.' });
    const s = t.client.getState();
    expect(s.status).toBe('signed-out');
    expect(s.signInError).toEqual({ code: 'nickname_taken', message: 'The nickname "ana" is taken. Choose another.' });
    expect(s.rooms).toEqual([]);
    expect(ws3.closedWith).toBe(1000);
    expect(identityOf(t)).toEqual({ nick: 'ana' });
    t.clock.advance(120_000);
    expect(FakeSocket.all.length).toBe(3);
  });

  it('drops a session saved by an earlier page that the server no longer knows', async () => {
    const t1 = setup();
    await t1.signIn('ana', 0);
    t1.client.dispose();

    const t2 = reload(t1);
    t2.client.start();
    await flush();
    const ws = t2.sock();
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    ws.push({ type: 'error', code: 'invalid_session', message: 'Your session has ended. Sign in again.' });
    const ws2 = t2.sock();
    expect(ws2).not.toBe(ws);
    ws2.open();
    expect(ws2.sent).toEqual([{ type: 'hello', v: 1, nick: 'ana' }]);
    ws2.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-2' });
    await flush();
    expect(t2.client.getState().status).toBe('online');
    expect(identityOf(t2)).toEqual({ nick: 'ana', session: 'sess-2' });
  });

  it('takes invalid_session for a hello without a session as any refusal', () => {
    const t = setup();
    t.client.signIn('ana');
    t.sock().open();
    t.sock().push({ type: 'error', code: 'invalid_session', message: 'Your session has ended.' });
    expect(t.client.getState().status).toBe('signed-out');
    expect(t.client.getState().signInError?.code).toBe('invalid_session');
    expect(FakeSocket.all.length).toBe(1);
  });
});

describe('identity, shared by the tabs', () => {
  it('keeps nickname and session in local storage, and the rooms, the room in view and the outbox in session storage', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    t.client.openRoom('dev');
    await flush();
    ws.push({ type: 'joined', room: 'dev', lastSeq: 0, online: ['ana'] });
    ws.drop(1006);
    const id = t.client.send('dev', 'not sent yet');
    expect(identityOf(t)).toEqual({ nick: 'ana', session: 'sess-1' });
    expect(tabOf(t)).toEqual({
      nick: 'ana',
      rooms: ['general', 'dev'],
      current: 'dev',
      outbox: [{ clientId: id, room: 'dev', text: 'not sent yet', createdAt: t.clock.t }],
    });
  });

  it('restores the rooms, the room in view and the outbox after a reload', async () => {
    const t1 = setup();
    const ws = await t1.signIn('ana', 0);
    t1.client.openRoom('dev');
    await flush();
    ws.push({ type: 'joined', room: 'dev', lastSeq: 0, online: ['ana'] });
    ws.drop(1006);
    const id = t1.client.send('dev', 'not sent yet');
    t1.client.dispose();

    const t2 = reload(t1);
    t2.client.start();
    const s = t2.client.getState();
    expect(s.nick).toBe('ana');
    expect(s.rooms.map((r) => r.name)).toEqual(['general', 'dev']);
    expect(s.current).toBe('dev');
    expect(t2.room('dev').outgoing.map((o) => o.clientId)).toEqual([id]);
    await flush();
    t2.sock().open();
    expect(t2.sock().sent).toEqual([
      { type: 'hello', v: 1, nick: 'ana', session: 'sess-1' },
      { type: 'join', room: 'general', since: 0 },
      { type: 'join', room: 'dev', since: 0 },
    ]);
  });

  it('resumes the saved session at once in a new tab, or a reopened browser, and lands in general', async () => {
    const a = setup();
    await a.signIn('ana', 0);
    a.client.openRoom('dev');
    await flush();

    const b = newTab(a);
    b.client.start();
    const s = b.client.getState();
    expect(s.status).toBe('reconnecting');
    expect(s.nick).toBe('ana');
    expect(s.rooms.map((r) => r.name)).toEqual(['general']);
    expect(s.current).toBe('general');
    await flush();
    const ws = b.sock();
    ws.open();
    expect(ws.sent).toEqual([
      { type: 'hello', v: 1, nick: 'ana', session: 'sess-1' },
      { type: 'join', room: 'general', since: 0 },
    ]);
    ws.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' }, { type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    expect(b.client.getState().status).toBe('online');
    expect(b.sockets.length).toBe(1);
    expect(identityOf(b)).toEqual({ nick: 'ana', session: 'sess-1' });
  });

  it("does not restore a tab's rooms and outbox under another nickname", async () => {
    const t1 = setup();
    const ws = await t1.signIn('ana', 0);
    t1.client.openRoom('dev');
    ws.drop(1006);
    t1.client.send('general', 'from ana');
    t1.client.dispose();
    // Meanwhile, in another tab, ana signed out and bob signed in.
    t1.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'bob', session: 'sess-b' }));

    const t2 = reload(t1);
    t2.client.start();
    const s = t2.client.getState();
    expect(s.nick).toBe('bob');
    expect(s.rooms.map((r) => r.name)).toEqual(['general']);
    expect(t2.room().outgoing).toEqual([]);
    expect(tabOf(t2)).toEqual({ nick: 'bob', rooms: ['general'], current: 'general', outbox: [] });
  });

  it('takes over the session that the previous version kept in session storage', async () => {
    const t = setup();
    t.storage.setItem('parley', JSON.stringify({ nick: 'ana', session: 'sess-0', rooms: ['general', 'dev'], current: 'dev', outbox: [] }));
    t.client.start();
    expect(identityOf(t)).toEqual({ nick: 'ana', session: 'sess-0' });
    expect(t.client.getState().current).toBe('dev');
    await flush();
    t.sock().open();
    expect(t.sock().sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-0' });
    expect(tabOf(t)?.session).toBeUndefined();
  });

  it('resumes with the session another tab saved for the nickname meanwhile when its own gets invalid_session', async () => {
    const a = setup();
    await a.signIn('ana', 0);
    const b = newTab(a);
    b.client.start();
    await flush();
    const wsB = b.sock();
    wsB.open();
    expect(wsB.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });

    // sess-1 has expired, and tab a has started sess-2 before b's hello is answered.
    a.sock().drop(1006);
    a.clock.advance(60_000);
    a.sock().open();
    a.sock().push({ type: 'error', code: 'invalid_session', message: 'Your session has ended. Sign in again.' });
    a.sock().open();
    expect(a.sock().sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana' });
    a.sock().push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-2' });
    expect(identityOf(a)).toEqual({ nick: 'ana', session: 'sess-2' });

    wsB.push(
      { type: 'error', code: 'invalid_session', message: 'Your session has ended. Sign in again.' },
      { type: 'error', code: 'hello_required', message: 'Say hello first.', room: 'general' },
    );
    const wsB2 = b.sock();
    expect(wsB2).not.toBe(wsB);
    wsB2.open();
    expect(wsB2.sent).toEqual([
      { type: 'hello', v: 1, nick: 'ana', session: 'sess-2' },
      { type: 'join', room: 'general', since: 0 },
    ]);
    wsB2.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-2' }, { type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    expect(b.client.getState().status).toBe('online');
    expect(identityOf(b)).toEqual({ nick: 'ana', session: 'sess-2' });
  });

  it('starts a new session with the nickname alone when the session another tab saved is refused too', async () => {
    const t = setup();
    await t.signIn('ana', 0);
    t.sock().drop(1006);
    // Another tab saved sess-2; it has ended as well by the time it is tried.
    t.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'ana', session: 'sess-2' }));
    t.clock.advance(60_000);
    t.sock().open();
    t.sock().push({ type: 'error', code: 'invalid_session', message: 'Your session has ended.' });
    t.sock().open();
    expect(t.sock().sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-2' });
    t.sock().push({ type: 'error', code: 'invalid_session', message: 'Your session has ended.' });
    expect(identityOf(t)).toEqual({ nick: 'ana' });
    t.sock().open();
    expect(t.sock().sent).toEqual([{ type: 'hello', v: 1, nick: 'ana' }]);
    t.sock().push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-3' });
    expect(identityOf(t)).toEqual({ nick: 'ana', session: 'sess-3' });
    expect(t.sockets.length).toBe(4);
  });

  it("does not take another nickname's session on invalid_session, nor forget it", async () => {
    const t = setup();
    await t.signIn('ana', 0);
    t.sock().drop(1006);
    // Another tab signed in as bob meanwhile.
    t.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'bob', session: 'sess-b' }));
    t.clock.advance(60_000);
    t.sock().open();
    t.sock().push({ type: 'error', code: 'invalid_session', message: 'Your session has ended.' });
    t.sock().open();
    expect(t.sock().sent).toEqual([{ type: 'hello', v: 1, nick: 'ana' }]);
    expect(identityOf(t)).toEqual({ nick: 'bob', session: 'sess-b' });
  });

  it('signs every tab out when one signs out, and keeps only the nickname to suggest', async () => {
    const a = setup();
    const wsA = await a.signIn('ana', 0);
    const b = newTab(a);
    b.client.start();
    await flush();
    const wsB = b.sock();
    wsB.open();
    wsB.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' }, { type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });

    a.client.signOut();
    expect(wsA.sent.at(-1)).toEqual({ type: 'signout' });
    expect(identityOf(a)).toEqual({ nick: 'ana' });
    expect(tabOf(a)).toBeNull();
    // The server closes the session's other connections normally.
    wsB.drop(1000);
    expect(b.client.getState().status).toBe('signed-out');
    expect(b.client.getState().lastNick).toBe('ana');
    expect(identityOf(b)).toEqual({ nick: 'ana' });
    expect(tabOf(b)).toBeNull();

    const c = newTab(a);
    c.client.start();
    expect(c.client.getState().status).toBe('signed-out');
    expect(c.client.getState().lastNick).toBe('ana');
    expect(c.sockets).toEqual([]);
  });

  it('stays signed out when another tab signed out while this one was away', async () => {
    const a = setup();
    const wsA = await a.signIn('ana', 0);
    const b = newTab(a);
    b.client.start();
    await flush();
    const wsB = b.sock();
    wsB.open();
    wsB.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' }, { type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    wsB.drop(1006); // b is offline when a signs out
    a.client.signOut();
    expect(wsA.sent.at(-1)).toEqual({ type: 'signout' });

    b.clock.advance(60_000);
    expect(b.sockets.length).toBe(2);
    const wsB2 = b.sock();
    wsB2.open();
    expect(wsB2.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    wsB2.push({ type: 'error', code: 'invalid_session', message: 'The session is unknown, has expired or has ended. Sign in again.' });
    expect(b.client.getState().status).toBe('signed-out');
    expect(b.client.getState().lastNick).toBe('ana');
    expect(identityOf(b)).toEqual({ nick: 'ana' });
    b.clock.advance(120_000);
    expect(b.sockets.length).toBe(2);
  });

  it('leaves alone the session another tab saved for another nickname, when resuming its own and when it ends', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    // The latest sign-in, in another tab, is the one a new tab takes up.
    t.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'bob', session: 'sess-b' }));
    ws.drop(1006);
    const ws2 = await t.reconnect();
    expect(ws2.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    expect(t.client.getState().status).toBe('online');
    expect(identityOf(t)).toEqual({ nick: 'bob', session: 'sess-b' });
    t.client.signOut();
    expect(identityOf(t)).toEqual({ nick: 'bob', session: 'sess-b' });
    expect(t.client.getState().status).toBe('signed-out');
  });

  it('signs in with the saved session when another tab holds the nickname (not taken, but the same person)', async () => {
    const b = setup(); // on the sign-in screen before a signs in
    b.client.start();
    const a = setup({ identity: b.identity });
    await a.signIn('ana', 0);

    b.client.signIn('Ana');
    b.sock().open();
    expect(b.sock().sent).toEqual([{ type: 'hello', v: 1, nick: 'Ana', session: 'sess-1' }]);
    b.sock().push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' });
    const s = b.client.getState();
    expect(s.status).toBe('online');
    expect(s.nick).toBe('ana');
    expect(identityOf(b)).toEqual({ nick: 'ana', session: 'sess-1' });

    // Another nickname still starts a new session.
    b.client.signOut();
    b.client.signIn('bob');
    b.sock().open();
    expect(b.sock().sent).toEqual([{ type: 'hello', v: 1, nick: 'bob' }]);
  });

  it('follows, on the sign-in screen, another tab that signs in (the storage event)', async () => {
    const b = setup();
    b.client.start();
    b.client.identityChanged(); // nothing saved: nothing to follow
    expect(b.sockets).toEqual([]);
    const a = setup({ identity: b.identity });
    await a.signIn('ana', 0);

    b.client.identityChanged();
    expect(b.client.getState().status).toBe('reconnecting');
    expect(b.client.getState().nick).toBe('ana');
    await flush();
    b.sock().open();
    expect(b.sock().sent).toEqual([
      { type: 'hello', v: 1, nick: 'ana', session: 'sess-1' },
      { type: 'join', room: 'general', since: 0 },
    ]);
    // A tab that is in carries on.
    a.client.identityChanged();
    b.client.identityChanged();
    expect(a.sockets.length).toBe(1);
    expect(b.sockets.length).toBe(1);
  });

  it('keeps the identity in session storage when local storage is disabled', async () => {
    const tab = new MemoryStorage();
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      get() {
        throw new Error('SecurityError: access to localStorage is denied');
      },
    });
    Object.defineProperty(globalThis, 'sessionStorage', { configurable: true, value: tab });
    try {
      const t = setup({ browserStorage: true });
      t.client.start();
      await t.signIn('ana', 0);
      expect(JSON.parse(tab.getItem(IDENTITY_KEY)!)).toEqual({ nick: 'ana', session: 'sess-1' });
      expect(JSON.parse(tab.getItem('parley')!)).toMatchObject({ nick: 'ana', rooms: ['general'] });
    } finally {
      Reflect.deleteProperty(globalThis, 'localStorage');
      Reflect.deleteProperty(globalThis, 'sessionStorage');
    }
  });

  it('works for the life of the page when storage refuses every call', async () => {
    const refusing: StorageLike = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const t = setup({ storage: refusing, identity: refusing });
    t.client.start();
    expect(t.client.getState().status).toBe('signed-out');
    const ws = await t.signIn('ana', 0);
    expect(t.client.getState().status).toBe('online');
    ws.drop(1006);
    const ws2 = await t.reconnect();
    expect(ws2.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    t.client.signOut();
    expect(t.client.getState().status).toBe('signed-out');
  });
});

describe('resuming', () => {
  it('rejoins every room with since = the last seq seen after the connection drops', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'));
    t.rest.add('dev', msg(1, 'carol', 'build is green'));
    const ws = await t.signIn('ana', 1);
    t.client.openRoom('dev');
    expect(ws.framesOf('join').at(-1)).toEqual({ type: 'join', room: 'dev' });
    ws.push({ type: 'joined', room: 'dev', lastSeq: 1, online: ['ana'] });
    ws.push(msg(2, 'bob', 'two'), msg(3, 'bob', 'three'));
    ws.push(msg(2, 'carol', 'deploying', 'dev'));
    await flush();
    expect(t.seqs('dev')).toEqual([1, 2]);

    ws.drop(1006);
    expect(t.client.getState().status).toBe('reconnecting');
    const ws2 = await t.reconnect();
    expect(ws2.sent[0]).toEqual({ type: 'hello', v: 1, nick: 'ana', session: 'sess-1' });
    expect(ws2.framesOf('join')).toEqual([
      { type: 'join', room: 'general', since: 3 },
      { type: 'join', room: 'dev', since: 2 },
    ]);
    // No history is read again: the replay brings what was missed.
    expect(t.rest.history().length).toBe(2);
    ws2.push({ type: 'joined', room: 'general', lastSeq: 4, online: ['ana', 'bob'] }, msg(4, 'bob', 'missed'));
    expect(t.seqs()).toEqual([1, 2, 3, 4]);
    expect(t.client.getState().status).toBe('online');
  });

  /** reopened signs ana in to general and dev, drops the connection and opens the next. */
  async function reopened() {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'));
    t.rest.add('dev', msg(1, 'carol', 'build is green'));
    const ws = await t.signIn('ana', 1);
    t.client.openRoom('dev');
    await flush();
    ws.push({ type: 'joined', room: 'dev', lastSeq: 1, online: ['ana'] });
    ws.drop(1006);
    t.clock.advance(60_000);
    const ws2 = t.sock();
    ws2.open();
    return { t, ws2 };
  }

  it('sends its joins right behind the hello when resuming, not after the welcome', async () => {
    const { t, ws2 } = await reopened();
    expect(ws2.sent).toEqual([
      { type: 'hello', v: 1, nick: 'ana', session: 'sess-1' },
      { type: 'join', room: 'general', since: 1 },
      { type: 'join', room: 'dev', since: 1 },
    ]);
    ws2.push(
      { type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' },
      { type: 'joined', room: 'general', lastSeq: 2, online: ['ana', 'bob'] },
      msg(2, 'bob', 'missed'),
    );
    await flush();
    expect(ws2.framesOf('join').length).toBe(2); // not again after the welcome
    expect(t.seqs()).toEqual([1, 2]);
    expect(t.client.getState().status).toBe('online');
  });

  it('leaves a room whose join went with the hello before the welcome comes', async () => {
    const { t, ws2 } = await reopened();
    t.client.leaveRoom('dev');
    expect(ws2.sent.at(-1)).toEqual({ type: 'leave', room: 'dev' });
  });

  it('signs out when a resuming hello is refused, whatever its joins get', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.drop(1006);
    t.clock.advance(60_000);
    const ws2 = t.sock();
    ws2.open();
    expect(ws2.framesOf('join')).toEqual([{ type: 'join', room: 'general', since: 0 }]);
    ws2.push(
      { type: 'error', code: 'nickname_taken', message: 'The nickname "ana" is taken. Choose another.' },
      { type: 'error', code: 'hello_required', message: 'Say hello first.', room: 'general' },
    );
    const s = t.client.getState();
    expect(s.status).toBe('signed-out');
    expect(s.signInError?.code).toBe('nickname_taken');
    expect(ws2.closedWith).toBe(1000);
  });

  it('drops entries it already has (dedupe by seq)', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'), msg(2, 'bob', 'two'));
    const ws = await t.signIn('ana', 2);
    ws.push(msg(2, 'bob', 'two'), msg(3, 'bob', 'three'), msg(3, 'bob', 'three'), msg(1, 'bob', 'one'));
    ws.push(msg(3, 'bob', 'three'));
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.room().last).toBe(3);
  });

  it('fills a gap from REST with after = last when a seq jumps', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'), msg(2, 'bob', 'two'));
    const ws = await t.signIn('ana', 2);
    // The server stored 3..6, but only 6 reached us.
    t.rest.add('general', msg(3, 'bob', 'three'), msg(4, 'bob', 'four'), msg(5, 'bob', 'five'), msg(6, 'bob', 'six'));
    ws.push(msg(6, 'bob', 'six'));
    expect(t.seqs()).toEqual([1, 2]); // held back until the gap is filled
    await flush();
    expect(t.rest.calls.at(-1)).toBe('http://parley.test/api/rooms/general/messages?limit=200&after=2');
    // A live entry arriving meanwhile is not applied twice.
    ws.push(msg(5, 'bob', 'five'), msg(7, 'bob', 'seven'));
    await flush();
    expect(t.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('backs off 0.5 s doubling to 30 s, each wait within ±50%', () => {
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      for (let attempt = 0; attempt < 12; attempt++) {
        const base = Math.min(30_000, 500 * 2 ** attempt);
        const d = backoffDelay(attempt, () => r);
        expect(d).toBeGreaterThanOrEqual(base * 0.5);
        expect(d).toBeLessThan(base * 1.5);
      }
    }
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(1, () => 0.5)).toBe(1000);
    expect(backoffDelay(6, () => 0.5)).toBe(30_000);
    expect(backoffDelay(100, () => 0.5)).toBe(30_000);
  });

  it('waits the backoff between attempts and starts over after a welcome', async () => {
    const t = setup({ random: () => 0 }); // the shortest waits: half the base
    const ws = await t.signIn();
    ws.drop(1006);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const n = FakeSocket.all.length;
      const start = t.clock.t;
      while (FakeSocket.all.length === n) t.clock.advance(10);
      waits.push(t.clock.t - start);
      t.sock().drop(1006); // the server is still down
    }
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    const ws2 = await t.reconnect();
    ws2.drop(1001);
    const n = FakeSocket.all.length;
    t.clock.advance(249);
    expect(FakeSocket.all.length).toBe(n);
    t.clock.advance(1);
    expect(FakeSocket.all.length).toBe(n + 1);
  });
});

describe('after the server goes away', () => {
  it('retries about every second, not doubling, for 30 s after a 1001, then backs off again', async () => {
    const t = setup({ random: () => 0.999 }); // the longest waits
    const ws = await t.signIn();
    ws.drop(1001); // the server restarts
    const closedAt = t.clock.t;
    const waits: number[] = [];
    while (t.clock.t - closedAt < 40_000) {
      const n = FakeSocket.all.length;
      const start = t.clock.t;
      while (FakeSocket.all.length === n) t.clock.advance(10);
      waits.push(t.clock.t - start);
      t.sock().drop(1006); // still down
    }
    const early = waits.slice(0, 20);
    expect(Math.max(...early)).toBeLessThanOrEqual(1500);
    expect(Math.max(...waits)).toBeGreaterThan(1500); // after the window, the backoff grows again
    // Back up: the next attempt is welcomed, and the short waits end with it.
    const ws2 = await t.reconnect();
    ws2.drop(1006);
    const n = FakeSocket.all.length;
    t.clock.advance(749);
    expect(FakeSocket.all.length).toBe(n); // 500 ms ± 50%: not yet, with random 0.999
    t.clock.advance(1);
    expect(FakeSocket.all.length).toBe(n + 1);
  });

  it('shows no one online while disconnected, until the server says again', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0, ['ana', 'bob']);
    expect(t.room().online).toEqual(['ana', 'bob']);
    ws.drop(1001);
    expect(t.room().online).toEqual([]);
    const ws2 = await t.reconnect();
    ws2.push({ type: 'joined', room: 'general', lastSeq: 0, online: ['ana', 'carol'] });
    expect(t.room().online).toEqual(['ana', 'carol']);
  });
});

describe('sending', () => {
  it('goes sending → sent on ack → into the log when the message event comes', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    const id = t.client.send('general', 'Hello, world');
    expect(ws.framesOf('send')).toEqual([{ type: 'send', room: 'general', clientId: id, text: 'Hello, world' }]);
    expect(t.room().outgoing.map((o) => o.status)).toEqual(['sending']);
    ws.push({ type: 'ack', room: 'general', clientId: id, seq: 1, at: '2026-11-22T09:30:01.512Z' });
    expect(t.room().outgoing.map((o) => [o.status, o.seq])).toEqual([['sent', 1]]);
    ws.push(msg(1, 'ana', 'Hello, world', 'general', id));
    expect(t.room().outgoing).toEqual([]);
    expect(t.seqs()).toEqual([1]);
  });

  it('takes the message event before the ack just as well', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    const id = t.client.send('general', 'hi');
    ws.push(msg(1, 'ana', 'hi', 'general', id), { type: 'ack', room: 'general', clientId: id, seq: 1, at: '2026-11-22T09:30:01.512Z' });
    expect(t.room().outgoing).toEqual([]);
    expect(t.seqs()).toEqual([1]);
  });

  it('keeps unacknowledged messages in the outbox and resends them with the same client id after reconnecting', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    const a = t.client.send('general', 'first');
    ws.drop(1006);
    const b = t.client.send('general', 'written while offline');
    expect(t.room().outgoing.map((o) => [o.text, o.status])).toEqual([
      ['first', 'sending'],
      ['written while offline', 'sending'],
    ]);

    const ws2 = await t.reconnect();
    // Nothing is sent before the room is joined again.
    expect(ws2.framesOf('send')).toEqual([]);
    ws2.push({ type: 'joined', room: 'general', lastSeq: 1, online: ['ana'] });
    expect(ws2.framesOf('send')).toEqual([
      { type: 'send', room: 'general', clientId: a, text: 'first' },
      { type: 'send', room: 'general', clientId: b, text: 'written while offline' },
    ]);
    // "first" had been stored before the drop: the replay brings it, the ack repeats its seq.
    ws2.push(msg(1, 'ana', 'first', 'general', a), { type: 'ack', room: 'general', clientId: a, seq: 1, at: 'x' });
    ws2.push({ type: 'ack', room: 'general', clientId: b, seq: 2, at: 'y' }, msg(2, 'ana', 'written while offline', 'general', b));
    expect(t.seqs()).toEqual([1, 2]);
    expect(t.room().outgoing).toEqual([]);
  });

  it('keeps the outbox across a reload of the page', async () => {
    const t1 = setup();
    const ws = await t1.signIn('ana', 0);
    ws.drop(1006);
    const id = t1.client.send('general', 'survives a reload');
    t1.client.dispose();

    const t2 = reload(t1);
    t2.client.start();
    expect(t2.room().outgoing.map((o) => o.clientId)).toEqual([id]);
    await flush();
    const ws2 = t2.sock();
    ws2.open();
    ws2.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' }, { type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    await flush();
    expect(ws2.framesOf('send')).toEqual([{ type: 'send', room: 'general', clientId: id, text: 'survives a reload' }]);
  });

  it('marks a refused message failed, and retry sends it again with the same client id', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    const id = t.client.send('general', 'too fast');
    ws.push({ type: 'error', code: 'rate_limited', message: 'Slow down.', room: 'general', clientId: id });
    expect(t.room().outgoing.map((o) => [o.status, o.error])).toEqual([['failed', 'Slow down.']]);
    t.client.retry(id);
    expect(ws.framesOf('send').map((f) => f.clientId)).toEqual([id, id]);
    expect(t.room().outgoing[0]!.status).toBe('sending');
  });

  it('shows a retry state when no ack comes, and still resends it after a reconnect', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    const id = t.client.send('general', 'into the void');
    t.clock.advance(ACK_TIMEOUT);
    expect(t.room().outgoing[0]!.status).toBe('failed');
    ws.drop(1006);
    const ws2 = await t.reconnect();
    ws2.push({ type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    expect(ws2.framesOf('send').map((f) => f.clientId)).toEqual([id]);
    expect(t.room().outgoing[0]!.status).toBe('sending');
  });
});

describe('typing', () => {
  it('sends at most one typing notice every 3 s', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    for (let i = 0; i < 10; i++) {
      t.client.notifyTyping('general');
      t.clock.advance(250);
    }
    expect(ws.framesOf('typing').length).toBe(1);
    t.clock.advance(TYPING_SEND_INTERVAL - 2500);
    t.client.notifyTyping('general');
    expect(ws.framesOf('typing')).toEqual([
      { type: 'typing', room: 'general' },
      { type: 'typing', room: 'general' },
    ]);
  });

  it('shows who is typing for 5 s, or until their message arrives', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.push({ type: 'typing', room: 'general', from: 'bob' }, { type: 'typing', room: 'general', from: 'carol' });
    expect(t.room().typing).toEqual(['bob', 'carol']);
    ws.push(msg(1, 'bob', 'done typing'));
    expect(t.room().typing).toEqual(['carol']);
    t.clock.advance(TYPING_SHOW_FOR - 1);
    expect(t.room().typing).toEqual(['carol']);
    t.clock.advance(1);
    expect(t.room().typing).toEqual([]);
  });
});

describe('rooms', () => {
  it('counts unread messages from others in rooms not in view, and clears them on view', async () => {
    const t = setup();
    t.rest.add('dev', msg(1, 'carol', 'old news', 'dev'));
    const ws = await t.signIn('ana', 0);
    t.client.openRoom('dev');
    await flush();
    ws.push({ type: 'joined', room: 'dev', lastSeq: 1, online: ['ana'] });
    expect(t.room('dev').unread).toBe(0); // history is not unread
    ws.push(msg(1, 'bob', 'in general'), msg(2, 'bob', 'again'), joinEntry(3, 'dave'));
    ws.push(msg(2, 'carol', 'in view', 'dev'));
    expect(t.room('general').unread).toBe(2);
    expect(t.room('dev').unread).toBe(0);
    t.client.selectRoom('general');
    expect(t.room('general').unread).toBe(0);
    t.client.send('dev', 'mine');
    ws.push(msg(3, 'ana', 'mine', 'dev', 'uuid-1'), msg(4, 'carol', 'yours', 'dev'));
    expect(t.room('dev').unread).toBe(1);
  });

  it('tracks who is online from joined, online and offline', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0, ['ana', 'bob']);
    ws.push({ type: 'online', room: 'general', nick: 'carol' }, { type: 'offline', room: 'general', nick: 'bob' });
    expect(t.room().online).toEqual(['ana', 'carol']);
  });

  it('takes several people coming and going at once from a presence event', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0, ['ana', 'bob', 'carol']);
    ws.push({ type: 'presence', room: 'general', online: ['dan', 'erin'], offline: ['bob'] });
    expect(t.room().online).toEqual(['ana', 'carol', 'dan', 'erin']);
    ws.push({ type: 'presence', room: 'general', online: [], offline: ['carol', 'dan'] });
    expect(t.room().online).toEqual(['ana', 'erin']);
  });

  it('loads older pages before the oldest entry', async () => {
    const t = setup();
    const log: Entry[] = [];
    for (let i = 1; i <= 120; i++) log.push(msg(i, 'bob', `m${i}`));
    t.rest.add('general', ...log);
    await t.signIn('ana', 120);
    expect(t.seqs()).toEqual(log.slice(70).map((e) => e.seq));
    expect(t.room().hasOlder).toBe(true);
    await t.client.loadOlder('general');
    expect(t.rest.calls.at(-1)).toBe('http://parley.test/api/rooms/general/messages?limit=50&before=71');
    await t.client.loadOlder('general');
    expect(t.seqs()).toEqual(log.map((e) => e.seq));
    expect(t.room().hasOlder).toBe(false);
  });

  it('opens a new room with a join, and reads no history when joined says it has none', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    const reads = t.rest.history().length;
    t.client.openRoom('new room');
    // Its history is not asked for: the room may not exist before the join.
    expect(ws.framesOf('join').at(-1)).toEqual({ type: 'join', room: 'new room' });
    expect(t.client.getState().current).toBe('new room');
    expect(t.room('new room').loading).toBe(true);
    ws.push({ type: 'joined', room: 'new room', lastSeq: 0, online: ['ana'] }, joinEntry(1, 'ana', 'new room'));
    await flush();
    expect(t.rest.history().length).toBe(reads);
    expect(t.room('new room').loading).toBe(false);
    expect(t.room('new room').hasOlder).toBe(false);
    expect(t.seqs('new room')).toEqual([1]);
  });

  it('drops a room whose creation the server refused (rate_limited), and says why; a dropped typing notice says nothing', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.push({ type: 'error', code: 'rate_limited', room: 'general', message: 'Too many frames; this one was dropped. Slow down.' });
    expect(t.client.getState().notice).toBe(null);
    expect(t.room('general')).toBeDefined();
    t.client.openRoom('room 21');
    const why = 'Too many new rooms from your address: at most 20 every 1h. Try again in 180 seconds.';
    ws.push({ type: 'error', code: 'rate_limited', room: 'room 21', message: why });
    expect(t.client.getState().rooms.map((r) => r.name)).not.toContain('room 21');
    expect(t.client.getState().notice).toBe(why);
    expect(ws.framesOf('leave')).toEqual([]); // nothing to leave
  });

  it('opens a room that has history with a join, then reads the page below joined.lastSeq', async () => {
    const t = setup();
    t.rest.add('dev', msg(1, 'carol', 'one', 'dev'), msg(2, 'carol', 'two', 'dev'), msg(3, 'carol', 'three', 'dev'));
    const ws = await t.signIn('ana', 0);
    t.client.openRoom('dev');
    expect(ws.framesOf('join').at(-1)).toEqual({ type: 'join', room: 'dev' });
    ws.push({ type: 'joined', room: 'dev', lastSeq: 3, online: ['ana', 'carol'] }, msg(4, 'carol', 'four', 'dev'));
    await flush();
    expect(t.rest.calls.at(-1)).toBe('http://parley.test/api/rooms/dev/messages?limit=50&before=4');
    expect(t.seqs('dev')).toEqual([1, 2, 3, 4]);
    expect(t.room('dev').hasOlder).toBe(false);
    expect(t.room('dev').unread).toBe(0);
  });

  it('joins a room opened while the connection is down with the next hello, reading nothing before', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.drop(1006);
    const reads = t.rest.history().length;
    t.client.openRoom('dev');
    expect(t.client.getState().current).toBe('dev');
    const ws2 = await t.reconnect();
    expect(ws2.framesOf('join')).toEqual([
      { type: 'join', room: 'general', since: 0 },
      { type: 'join', room: 'dev' },
    ]);
    ws2.push({ type: 'joined', room: 'dev', lastSeq: 0, online: ['ana'] });
    await flush();
    expect(t.rest.history().length).toBe(reads);
    expect(t.room('dev').loading).toBe(false);
  });
});

describe('edge cases', () => {
  it('pings after 20 s of silence and gives up on a connection silent for 45 s', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    t.clock.advance(20_000);
    expect(ws.framesOf('ping')).toEqual([{ type: 'ping' }]);
    ws.push({ type: 'pong' });
    t.clock.advance(20_000);
    expect(ws.framesOf('ping').length).toBe(2);
    t.clock.advance(25_000); // no pong: the network is gone
    expect(t.client.getState().status).toBe('reconnecting');
    const ws2 = await t.reconnect();
    expect(ws2.framesOf('join')).toEqual([{ type: 'join', room: 'general', since: 0 }]);
  });

  it('pauses at least 5 s after close code 4001 (rate limited)', async () => {
    const t = setup({ random: () => 0 });
    const ws = await t.signIn('ana', 0);
    ws.drop(4001);
    t.clock.advance(4_999);
    expect(FakeSocket.all.length).toBe(1);
    t.clock.advance(1);
    expect(FakeSocket.all.length).toBe(2);
  });

  it('starts a room afresh after bad_since (the server lost its log)', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'one'), msg(2, 'bob', 'two'));
    const ws = await t.signIn('ana', 2);
    ws.drop(1006);
    t.rest.logs.set('general', [msg(1, 'carol', 'new world')]);
    const ws2 = await t.reconnect();
    ws2.push({ type: 'error', code: 'bad_since', message: 'since is 2, but the newest entry is 1.', room: 'general' });
    await flush();
    expect(ws2.framesOf('join')).toEqual([
      { type: 'join', room: 'general', since: 2 },
      { type: 'join', room: 'general', since: 1 },
    ]);
    expect(t.room().entries.map((e) => e.text)).toEqual(['new world']);
  });

  it('does not show a restored outbox message twice when history already has it', async () => {
    const t1 = setup();
    const ws = await t1.signIn('ana', 0);
    const id = t1.client.send('general', 'stored, but the ack was lost');
    ws.drop(1006);
    t1.client.dispose();

    const t2 = reload(t1);
    t2.rest.add('general', msg(1, 'ana', 'stored, but the ack was lost', 'general', id));
    t2.client.start();
    await flush();
    expect(t2.room().outgoing).toEqual([]);
    expect(t2.room().entries.map((e) => e.clientId)).toEqual([id]);
  });

  it('takes entries of kinds it does not know into account without showing them', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    ws.push({ type: 'edit', room: 'general', seq: 1, from: 'bob', at: 'x' }, { type: 'future', room: 'general' }, msg(2, 'bob', 'after'));
    expect(t.seqs()).toEqual([2]);
    expect(t.room().last).toBe(2);
    expect(t.rest.calls.some((c) => c.includes('after='))).toBe(false);
  });

  it('sends leave and forgets the room', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    t.client.openRoom('dev');
    await flush();
    ws.push({ type: 'joined', room: 'dev', lastSeq: 0, online: ['ana'] });
    t.client.leaveRoom('dev');
    expect(ws.framesOf('leave')).toEqual([{ type: 'leave', room: 'dev' }]);
    expect(t.client.getState().rooms.map((r) => r.name)).toEqual(['general']);
    expect(t.client.getState().current).toBe('general');
  });
});

describe('accounts', () => {
  const account = { name: 'ana', displayName: 'Ana', admin: true, createdAt: '2026-11-22T09:00:00Z' };
  const browser = { id: 's1', kind: 'account', label: 'Chrome', createdAt: '2026-11-22T09:00:00Z', expiresAt: '2026-12-22T09:00:00Z', current: true };

  /** signedUp answers sign-ups and GET /api/account as a server whose cookie now signs ana in. */
  function accountServer(t: Tab) {
    const asked: unknown[] = [];
    t.rest.routes.set('POST /api/accounts', (body) => {
      asked.push(body);
      t.rest.routes.set('GET /api/account', () => json(200, { name: 'ana', kind: 'account', account }));
      return json(201, { account, session: browser });
    });
    t.rest.routes.set('POST /api/sessions', (body) => {
      asked.push(body);
      const b = body as { password: string };
      if (b.password !== 'right password') return json(401, { error: { code: 'invalid_credentials', message: 'The name or the password is wrong.' } });
      t.rest.routes.set('GET /api/account', () => json(200, { name: 'ana', kind: 'account', account }));
      return json(201, { account, session: browser });
    });
    return asked;
  }

  /** enter answers the account's hello (which names nobody) and its join, like the server. */
  async function enter(t: Tab): Promise<FakeSocket> {
    await flush();
    const ws = t.sock();
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', v: 1 });
    ws.push({ type: 'welcome', v: 1, nick: 'ana', kind: 'account' });
    await flush();
    ws.push({ type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    return ws;
  }

  it('signs up, then says hello with neither nick nor session (the cookie), and keeps no token', async () => {
    const t = setup();
    const asked = accountServer(t);
    t.client.start();
    await flush();
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', kind: null });
    await t.client.signUp('ana', 'right password', 'Ana');
    expect(asked).toEqual([{ name: 'ana', password: 'right password', displayName: 'Ana' }]);
    expect(t.client.getState()).toMatchObject({ nick: 'ana', kind: 'account', account });
    const ws = await enter(t);
    expect(ws.sent).toContainEqual({ type: 'join', room: 'general', since: 0 });
    expect(t.client.getState().status).toBe('online');
    expect(identityOf(t)).toEqual({ nick: 'ana', account: true });
  });

  it('leaves the state as it was when the sign-in is refused, and rejects with the server’s words', async () => {
    const t = setup();
    accountServer(t);
    t.client.start();
    await flush();
    await expect(t.client.signInAccount('ana', 'wrong')).rejects.toMatchObject({ code: 'invalid_credentials', message: 'The name or the password is wrong.' });
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', nick: null, kind: null });
    expect(t.sockets).toHaveLength(0);
    expect(identityOf(t)).toBeNull();
  });

  it('goes straight to the chat on load, and reads the account, when the identity says an account is signed in', async () => {
    const t = setup();
    t.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'ana', account: true }));
    t.rest.routes.set('GET /api/account', () => json(200, { name: 'ana', kind: 'account', account }));
    t.client.start();
    expect(t.client.getState()).toMatchObject({ status: 'reconnecting', nick: 'ana', kind: 'account', account: null });
    await enter(t);
    expect(t.client.getState()).toMatchObject({ status: 'online', account });
  });

  it('goes back to the sign-in screen on load when the cookie signs nobody in any more (401)', async () => {
    const t = setup();
    t.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'ana', account: true }));
    t.client.start();
    await flush();
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', kind: null, signInNotice: 'You were signed out.' });
    expect(t.sock().closedWith).toBe(1000);
    expect(identityOf(t)).toEqual({ nick: 'ana' });
  });

  it('asks nothing of a new visitor: no identity, no request for the account', async () => {
    const t = setup();
    t.client.start();
    await flush();
    expect(t.rest.calls).toEqual([]);
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', kind: null });
  });

  it('resumes an account in a new tab at once, rooms joined right behind the hello', async () => {
    const a = setup();
    accountServer(a);
    a.client.start();
    await a.client.signInAccount('ana', 'right password');
    await enter(a);

    const b = newTab(a);
    // The browser's cookie is shared by its tabs: the server knows b too.
    b.rest.routes.set('GET /api/account', () => json(200, { name: 'ana', kind: 'account', account }));
    b.client.start();
    expect(b.client.getState()).toMatchObject({ nick: 'ana', kind: 'account', status: 'reconnecting' });
    await flush();
    b.sock().open();
    expect(b.sock().sent).toEqual([
      { type: 'hello', v: 1 },
      { type: 'join', room: 'general', since: 0 },
    ]);
  });

  it('goes back to the sign-in screen, saying so, when the server ends the session (close 1000), in every tab', async () => {
    const a = setup();
    accountServer(a);
    a.client.start();
    await a.client.signInAccount('ana', 'right password');
    const ws = await enter(a);
    const b = newTab(a);
    // The browser's cookie is shared by its tabs: the server knows b too.
    b.rest.routes.set('GET /api/account', () => json(200, { name: 'ana', kind: 'account', account }));
    b.client.start();
    await enter(b);

    // Revoked from another browser: the server closes every socket of the session.
    ws.drop(1000);
    expect(a.client.getState()).toMatchObject({ status: 'signed-out', nick: null, kind: null, signInNotice: 'You were signed out.' });
    expect(identityOf(a)).toEqual({ nick: 'ana' });
    // Tab b learns it from the storage event, even before its own socket closes.
    b.client.identityChanged();
    expect(b.client.getState()).toMatchObject({ status: 'signed-out', nick: null, signInNotice: 'You were signed out.' });
    expect(b.sock().closedWith).toBe(1000);
    // And nobody reconnects.
    a.clock.advance(60_000);
    b.clock.advance(60_000);
    expect(a.sockets).toHaveLength(1);
    expect(b.sockets).toHaveLength(1);
  });

  it('goes back to the sign-in screen when a later hello is refused (invalid_session)', async () => {
    const t = setup();
    t.identity.setItem(IDENTITY_KEY, JSON.stringify({ nick: 'ana', account: true }));
    t.client.start();
    await flush();
    const ws = t.sock();
    ws.open();
    ws.push({ type: 'error', code: 'invalid_session', message: 'The session has ended.' });
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', kind: null, signInNotice: 'You were signed out.', signInError: null });
    expect(identityOf(t)).toEqual({ nick: 'ana' });
  });

  it('signs out over REST, which the server answers by closing the socket: no notice in the tab that asked', async () => {
    const t = setup();
    accountServer(t);
    let ended = 0;
    t.rest.routes.set('DELETE /api/sessions/current', () => {
      ended++;
      // The server closes the session's sockets before it answers.
      t.sock().drop(1000);
      return new Response(null, { status: 204 });
    });
    t.client.start();
    await t.client.signInAccount('ana', 'right password');
    await enter(t);
    t.client.signOut();
    await flush();
    expect(ended).toBe(1);
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', kind: null, signInNotice: null });
    expect(identityOf(t)).toEqual({ nick: 'ana' });
  });

  it('stays signed in, and says why, when the sign-out cannot reach the server', async () => {
    const t = setup();
    accountServer(t);
    t.rest.routes.set('DELETE /api/sessions/current', () => {
      throw new TypeError('Failed to fetch');
    });
    t.client.start();
    await t.client.signInAccount('ana', 'right password');
    await enter(t);
    t.client.signOut();
    await flush();
    expect(t.client.getState()).toMatchObject({ status: 'online', kind: 'account', notice: 'Could not sign out: The server cannot be reached.' });
    expect(identityOf(t)).toEqual({ nick: 'ana', account: true });
  });

  it('follows another tab that signs in with an account, from the sign-in screen', async () => {
    const a = setup();
    accountServer(a);
    a.client.start();
    const b = newTab(a);
    // The browser's cookie is shared by its tabs: the server knows b too.
    b.rest.routes.set('GET /api/account', () => json(200, { name: 'ana', kind: 'account', account }));
    b.client.start();
    await flush();
    await a.client.signInAccount('ana', 'right password');
    b.client.identityChanged();
    expect(b.client.getState()).toMatchObject({ nick: 'ana', kind: 'account' });
    await enter(b);
    expect(b.client.getState().status).toBe('online');
  });

  it('keeps the display name and password answers in its state', async () => {
    const t = setup();
    accountServer(t);
    t.rest.routes.set('PATCH /api/account', (body) => json(200, { ...account, displayName: (body as { displayName: string }).displayName }));
    t.rest.routes.set('POST /api/account/password', (body) => {
      const b = body as { current: string };
      if (b.current !== 'right password') return json(403, { error: { code: 'invalid_credentials', message: 'The current password is wrong.' } });
      return json(200, account);
    });
    t.client.start();
    await t.client.signInAccount('ana', 'right password');
    await enter(t);
    await t.client.setDisplayName('Ana B.');
    expect(t.client.getState().account?.displayName).toBe('Ana B.');
    await expect(t.client.changePassword('wrong', 'a new password')).rejects.toMatchObject({ message: 'The current password is wrong.' });
    await t.client.changePassword('right password', 'a new password');
    expect(t.client.getState().status).toBe('online');
  });

  it('reads the server info for the sign-in screen, and again when a guest is refused', async () => {
    const t = setup();
    let asked = 0;
    t.rest.routes.set('GET /api/server', () => {
      asked++;
      return json(200, { guests: false, signup: false, setup: false });
    });
    t.client.start();
    await t.client.loadServerInfo();
    expect(t.client.getState().server).toEqual({ guests: false, signup: false, setup: false });
    t.client.signIn('bob');
    t.sock().open();
    t.sock().push({ type: 'error', code: 'guests_disabled', message: 'This server does not allow guest access; sign in with an account.' });
    await flush();
    expect(asked).toBe(2);
    expect(t.client.getState()).toMatchObject({ status: 'signed-out', signInError: { code: 'guests_disabled' } });
  });
});

function edited(seq: number, target: number, from: string, text: string, clientId: string, room = 'general'): Entry {
  return { room, seq, type: 'edit', from, target, text, clientId, at: new Date(1_700_000_000_000 + seq * 1000).toISOString() };
}

describe('edits and deletions', () => {
  it('edits and deletes through the outbox, shows them folded in, and resends them with the same client id after a drop', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'ana', 'helo', 'general', 'c-1'), msg(2, 'bob', 'hi'));
    const ws = await t.signIn('ana', 2);
    const id = t.client.edit('general', 1, 'hello');
    expect(ws.framesOf('edit')).toEqual([{ type: 'edit', room: 'general', seq: 1, clientId: id, text: 'hello' }]);
    expect(t.room().changes).toMatchObject([{ clientId: id, op: 'edit', target: 1, text: 'hello', status: 'sending' }]);
    expect(t.room().outgoing).toEqual([]);
    ws.drop(1006);
    const ws2 = await t.reconnect();
    ws2.push({ type: 'joined', room: 'general', lastSeq: 2, online: ['ana'] });
    // The same client id: were it stored before the drop, it is acknowledged, not stored twice.
    expect(ws2.framesOf('edit')).toEqual([{ type: 'edit', room: 'general', seq: 1, clientId: id, text: 'hello' }]);
    ws2.push({ type: 'ack', room: 'general', clientId: id, seq: 3, at: '2026-01-01T00:00:00Z' }, edited(3, 1, 'ana', 'hello', id));
    expect(t.room().changes).toEqual([]);
    expect(t.room().entries[0]).toMatchObject({ seq: 1, text: 'hello', edited: 3 });

    const del = t.client.deleteMessage('general', 2);
    expect(ws2.framesOf('delete')).toEqual([{ type: 'delete', room: 'general', seq: 2, clientId: del }]);
    ws2.push({ type: 'error', code: 'not_yours', message: 'That message is not yours.', room: 'general', clientId: del });
    expect(t.room().changes).toMatchObject([{ clientId: del, op: 'delete', status: 'failed', error: 'That message is not yours.' }]);
    t.client.discard(del);
    expect(t.room().changes).toEqual([]);
    expect(t.room().entries[1]).toMatchObject({ seq: 2, text: 'hi' });
  });

  it('keeps an edit not yet acknowledged across a reload', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'ana', 'helo', 'general', 'c-1'));
    const ws = await t.signIn('ana', 1);
    ws.readyState = 3; // the frame cannot go
    const id = t.client.edit('general', 1, 'hello');
    const t2 = reload(t);
    t2.client.start();
    await flush();
    expect(t2.room().changes).toMatchObject([{ clientId: id, op: 'edit', target: 1, text: 'hello' }]);
  });
});

describe('read markers and unread counts', () => {
  it('counts others’ messages after the marker that joined states, and marks the room in view read at most once a second', async () => {
    const t = setup();
    t.rest.add('general', msg(1, 'bob', 'a'), msg(2, 'bob', 'b'), msg(3, 'bob', 'c'));
    t.focus.on = false;
    t.client.signIn('ana');
    const ws = t.sock();
    ws.open();
    ws.push({ type: 'welcome', v: 1, nick: 'ana', session: 'sess-1' });
    await flush();
    ws.push({ type: 'joined', room: 'general', lastSeq: 3, readSeq: 1, online: ['ana'] });
    // The window has no focus: nothing is read.
    expect(t.room().unread).toBe(2);
    expect(ws.framesOf('read')).toEqual([]);
    t.focus.on = true;
    t.client.attentionChanged();
    expect(t.room().unread).toBe(0);
    expect(ws.framesOf('read')).toEqual([{ type: 'read', room: 'general', seq: 3 }]);
    ws.push(msg(4, 'bob', 'd'));
    ws.push(msg(5, 'bob', 'e'));
    expect(t.room().unread).toBe(0);
    expect(ws.framesOf('read')).toHaveLength(1);
    t.clock.advance(1000);
    expect(ws.framesOf('read')).toEqual([
      { type: 'read', room: 'general', seq: 3 },
      { type: 'read', room: 'general', seq: 5 },
    ]);
  });

  it('follows the marks of other tabs, keeping the highest, and the markers read at load', async () => {
    const t = setup();
    t.rest.routes.set('GET /api/read-markers', () => json(200, { markers: [{ room: 'dev', seq: 2 }] }));
    t.rest.add('dev', msg(1, 'bob', 'a', 'dev'), msg(2, 'bob', 'b', 'dev'), msg(3, 'bob', 'c', 'dev'));
    const ws = await t.signIn('ana', 0);
    // A guest's REST calls carry its session as a bearer token.
    expect(t.rest.auth.get('http://parley.test/api/read-markers?limit=200')).toBe('Bearer sess-1');
    t.client.openRoom('dev');
    t.client.selectRoom('general');
    ws.push({ type: 'joined', room: 'dev', lastSeq: 3, online: ['ana'] });
    await flush();
    expect(t.room('dev').readSeq).toBe(2);
    expect(t.room('dev').unread).toBe(1);
    ws.push({ type: 'read', room: 'dev', seq: 3 });
    expect(t.room('dev').unread).toBe(0);
    ws.push({ type: 'read', room: 'dev', seq: 1 });
    expect(t.room('dev').readSeq).toBe(3);
  });
});

describe('private and direct rooms', () => {
  it('opens the direct rooms the list names, shown by the other people, and forgets a room whose join answers not_found', async () => {
    const t = setup();
    t.rest.routes.set('GET /api/rooms', () =>
      json(200, {
        rooms: [
          { name: '@aa', kind: 'direct', lastSeq: 0, online: 0, createdAt: '2026-01-01T00:00:00Z' },
          { name: '~bb', kind: 'private', title: 'Plans', owner: 'bob', lastSeq: 0, online: 0, createdAt: '2026-01-01T00:00:00Z' },
          { name: 'general', kind: 'public', topic: 'Anything', lastSeq: 0, online: 0, createdAt: '2026-01-01T00:00:00Z' },
        ],
      }),
    );
    t.rest.routes.set('GET /api/rooms/%40aa/members', () => json(200, { members: [{ name: 'ana', role: 'member' }, { name: 'bob', role: 'member' }] }));
    const ws = await t.signIn('ana', 0);
    await flush();
    expect(t.room('@aa')).toMatchObject({ kind: 'direct', label: 'bob' });
    expect(t.room('~bb')).toMatchObject({ kind: 'private', label: 'Plans', owner: 'bob' });
    expect(t.room('general').topic).toBe('Anything');
    expect(ws.framesOf('join').map((j) => j.room)).toEqual(expect.arrayContaining(['@aa', '~bb']));
    // Removed from the private room: the server closes with 4003, and the join after the reconnection answers not_found.
    ws.drop(4003);
    const ws2 = await t.reconnect();
    ws2.push({ type: 'error', code: 'not_found', message: 'No such room.', room: '~bb' });
    expect(t.client.getState().rooms.map((r) => r.name)).not.toContain('~bb');
    expect(t.client.getState().notice).toBe('“Plans” was deleted, or you no longer have access to it.');
    expect(ws2.framesOf('leave')).toEqual([]);
  });
});

describe('rooms made while signed in', () => {
  it('reads the rooms again on a rooms event, and opens the new conversation at once', async () => {
    const t = setup();
    let rooms: unknown[] = [{ name: 'general', kind: 'public', lastSeq: 0, online: 0, createdAt: '2026-01-01T00:00:00Z' }];
    t.rest.routes.set('GET /api/rooms', () => json(200, { rooms }));
    t.rest.routes.set('GET /api/rooms/%40cc/members', () => json(200, { members: [{ name: 'ana', role: 'member' }, { name: 'cy', role: 'member' }] }));
    const ws = await t.signIn('ana', 0);
    await flush();
    expect(t.client.getState().rooms.map((r) => r.name)).not.toContain('@cc');
    rooms = [...rooms, { name: '@cc', kind: 'direct', lastSeq: 1, online: 1, createdAt: '2026-01-01T00:00:00Z' }];
    ws.push({ type: 'rooms', room: '@cc' });
    await flush();
    expect(t.room('@cc')).toMatchObject({ kind: 'direct', label: 'cy' });
    expect(ws.framesOf('join').map((j) => j.room)).toContain('@cc');
  });
});

describe('archived and deleted rooms', () => {
  it('marks a room archived when a send is refused as archived, shows the message, and does not resend it', async () => {
    const t = setup();
    const ws = await t.signIn('ana', 0);
    expect(t.room().archived).toBe(false);
    const id = t.client.send('general', 'too late');
    ws.push({ type: 'error', code: 'archived', message: 'The room is archived: it takes no new messages.', room: 'general', clientId: id });
    expect(t.room().archived).toBe(true);
    expect(t.room().outgoing.map((o) => [o.status, o.error])).toEqual([['failed', 'The room is archived: it takes no new messages.']]);
    ws.drop(1006);
    const ws2 = await t.reconnect();
    ws2.push({ type: 'joined', room: 'general', lastSeq: 0, online: ['ana'] });
    expect(ws2.framesOf('send')).toEqual([]);
  });

  it('reads archivedAt and description from the list, and treats a description the server does not send as none', async () => {
    const t = setup();
    t.rest.routes.set('GET /api/rooms', () =>
      json(200, {
        rooms: [
          { name: 'general', kind: 'public', lastSeq: 0, online: 0, createdAt: '2026-01-01T00:00:00Z' },
          { name: 'old', kind: 'public', description: 'Long ago', archivedAt: '2026-02-01T00:00:00Z', lastSeq: 0, online: 0, createdAt: '2026-01-01T00:00:00Z' },
        ],
      }),
    );
    await t.signIn('ana', 0);
    t.client.openRoom('old');
    await flush();
    expect(t.room('old')).toMatchObject({ archived: true, description: 'Long ago' });
    expect(t.room('general')).toMatchObject({ archived: false, description: '' });
  });

  it('archives and unarchives over PATCH, and learns the room the server answers', async () => {
    const t = setup();
    const bodies: unknown[] = [];
    t.rest.routes.set('PATCH /api/rooms/dev', (body) => {
      bodies.push(body);
      const archived = (body as { archived?: boolean }).archived;
      return json(200, { name: 'dev', kind: 'public', description: 'Work', createdAt: '2026-01-01T00:00:00Z', lastSeq: 0, ...(archived ? { archivedAt: '2026-03-01T00:00:00Z' } : {}) });
    });
    await t.signIn('ana', 0);
    t.client.openRoom('dev');
    await t.client.updateRoom('dev', { archived: true });
    expect(t.room('dev')).toMatchObject({ archived: true, description: 'Work' });
    await t.client.updateRoom('dev', { archived: false });
    expect(t.room('dev').archived).toBe(false);
    expect(bodies).toEqual([{ archived: true }, { archived: false }]);
  });

  it('forgets a room it deletes, with a notice, and keeps it when the server refuses', async () => {
    const t = setup();
    let status = 403;
    t.rest.routes.set('DELETE /api/rooms/dev', () =>
      status === 204 ? new Response(null, { status: 204 }) : json(403, { error: { code: 'forbidden', message: 'Only an admin may delete it.' } }),
    );
    await t.signIn('ana', 0);
    t.client.openRoom('dev');
    await expect(t.client.deleteRoom('dev')).rejects.toMatchObject({ code: 'forbidden' });
    expect(t.client.getState().rooms.map((r) => r.name)).toContain('dev');
    status = 204;
    await t.client.deleteRoom('dev');
    expect(t.client.getState().rooms.map((r) => r.name)).not.toContain('dev');
    expect(t.client.getState().notice).toBe('“dev” was deleted.');
  });
});
