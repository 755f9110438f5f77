// The REST API of docs/openapi.json that the client uses: the list of rooms,
// pages of a room's log, and accounts and sessions (sign-up, sign-in and
// out, one's account, password, sessions and bearer tokens). fetch is passed
// in, so that tests answer it. A browser's session is its HttpOnly cookie,
// which fetch sends by itself to the page's own origin; requests that change
// something send JSON, and the browser adds the Origin the server checks.

import type { Entry } from './protocol';

export type RoomKind = 'public' | 'private' | 'direct';

/** Room is an item of GET /api/rooms. */
export interface Room {
  name: string;
  lastSeq: number;
  online: number;
  createdAt: string;
  /** Absent from older servers, whose rooms are all public. */
  kind?: RoomKind;
  /** A private room's name for people. */
  title?: string;
  topic?: string;
  /** The account that made a private room. */
  owner?: string;
  /** A longer text than the topic; absent when empty, or from a server that has none. */
  description?: string;
  /** When the room was archived: it can be read, but takes nothing new. */
  archivedAt?: string;
}

/** RoomView is a room as GET /api/rooms/{room}, POST /api/rooms and POST /api/direct answer it. */
export interface RoomView {
  name: string;
  kind: RoomKind;
  title?: string;
  topic?: string;
  owner?: string;
  description?: string;
  archivedAt?: string;
  createdAt: string;
  lastSeq: number;
  /** The viewer's, in a private or direct room. */
  role?: 'owner' | 'member';
}

/** RoomMember is a member of a private or direct room. */
export interface RoomMember {
  name: string;
  role: 'owner' | 'member';
}

/** ReadMarker is how far the person has read a room. */
export interface ReadMarker {
  room: string;
  seq: number;
}

/** ApiError is an error answer of the REST API, or a failure to reach it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds to wait before trying again (Retry-After of a 429), or null. */
  readonly retryAfter: number | null;
  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

function getJSON<T>(fetchFn: FetchFn, url: string): Promise<T> {
  return request<T>(fetchFn, 'GET', url);
}

/**
 * request sends one request, with body as JSON when there is one, and
 * returns the JSON answer (undefined for 204), or throws an ApiError.
 */
async function request<T>(fetchFn: FetchFn, method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetchFn(url, method === 'GET' ? { headers } : init);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  if (res.status === 204) return undefined as T;
  let answer: unknown = null;
  try {
    answer = await res.json();
  } catch {
    // A proxy's HTML error page, or no body at all.
  }
  if (!res.ok) {
    const err = (answer as { error?: { code?: string; message?: string } } | null)?.error;
    const wait = Number.parseInt(res.headers.get('Retry-After') ?? '', 10);
    throw new ApiError(
      res.status,
      err?.code ?? 'http_' + res.status,
      err?.message ?? `The server answered ${res.status}.`,
      Number.isFinite(wait) && wait >= 0 ? wait : null,
    );
  }
  return answer as T;
}

/** PageQuery selects part of a room's log; see GET /api/rooms/{room}/messages. */
export interface PageQuery {
  limit?: number;
  before?: number;
  after?: number;
}

/**
 * fetchRooms lists the rooms of the server: the first page of GET
 * /api/rooms, at most 200 of them, by name; enough to suggest names.
 */
export async function fetchRooms(fetchFn: FetchFn, base = ''): Promise<Room[]> {
  const body = await getJSON<{ rooms: Room[] | null }>(fetchFn, `${base}/api/rooms?limit=200`);
  return body.rooms ?? [];
}

/** RoomsPage is a page of GET /api/rooms; next, when present, is the after of the next page. */
export interface RoomsPage {
  rooms: Room[];
  next?: string;
}

/** fetchRoomsPage returns the page of the rooms one may see after the room named after. */
export async function fetchRoomsPage(fetchFn: FetchFn, after = '', limit = 50, base = ''): Promise<RoomsPage> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (after) params.set('after', after);
  const body = await getJSON<{ rooms: Room[] | null; next?: string }>(fetchFn, `${base}/api/rooms?${params}`);
  return { rooms: body.rooms ?? [], next: body.next || undefined };
}

/** fetchAllRooms reads every page of GET /api/rooms (at most pages of them). */
export async function fetchAllRooms(fetchFn: FetchFn, base = '', pages = 20): Promise<Room[]> {
  const out: Room[] = [];
  let after = '';
  for (let i = 0; i < pages; i++) {
    const page = await fetchRoomsPage(fetchFn, after, 200, base);
    out.push(...page.rooms);
    if (!page.next) break;
    after = page.next;
  }
  return out;
}

/** fetchReadMarkers reads every page of one's read markers. */
export async function fetchReadMarkers(fetchFn: FetchFn, base = '', pages = 20): Promise<ReadMarker[]> {
  const out: ReadMarker[] = [];
  let after = '';
  for (let i = 0; i < pages; i++) {
    const params = new URLSearchParams({ limit: '200' });
    if (after) params.set('after', after);
    const body = await getJSON<{ markers: ReadMarker[] | null; next?: string }>(fetchFn, `${base}/api/read-markers?${params}`);
    out.push(...(body.markers ?? []));
    if (!body.next) break;
    after = body.next;
  }
  return out;
}

const roomPath = (base: string, room: string) => `${base}/api/rooms/${encodeURIComponent(room)}`;

/**
 * createPrivateRoom makes a private room, owned by its maker, with members
 * added at once. An empty description is not sent, so a server without
 * descriptions takes the room too.
 */
export function createPrivateRoom(
  fetchFn: FetchFn,
  title: string,
  topic: string,
  members: string[],
  base = '',
  description = '',
): Promise<RoomView> {
  const body: Record<string, unknown> = { kind: 'private', title, topic, members };
  if (description) body.description = description;
  return request<RoomView>(fetchFn, 'POST', `${base}/api/rooms`, body);
}

/** RoomChange is what PATCH /api/rooms/{room} changes; what is left out stays as it is. */
export interface RoomChange {
  title?: string;
  topic?: string;
  description?: string;
  archived?: boolean;
}

/** updateRoom changes a room's title, topic or description, or archives it or brings it back (its owner, or an admin). */
export function updateRoom(fetchFn: FetchFn, room: string, change: RoomChange, base = ''): Promise<RoomView> {
  return request<RoomView>(fetchFn, 'PATCH', roomPath(base, room), change);
}

/** deleteRoom deletes a room with its history (its owner, or an admin); everyone in it is closed out with 4003. */
export function deleteRoom(fetchFn: FetchFn, room: string, base = ''): Promise<void> {
  return request<void>(fetchFn, 'DELETE', roomPath(base, room));
}

/** fetchRoom reads a room one may see (404 otherwise). */
export function fetchRoom(fetchFn: FetchFn, room: string, base = ''): Promise<RoomView> {
  return getJSON<RoomView>(fetchFn, roomPath(base, room));
}

/** fetchMembers lists who may see a private or direct room (none for a public one). */
export async function fetchMembers(fetchFn: FetchFn, room: string, base = ''): Promise<RoomMember[]> {
  const body = await getJSON<{ members: RoomMember[] | null }>(fetchFn, `${roomPath(base, room)}/members`);
  return body.members ?? [];
}

/** addMember adds an account to a private room (its owner, or an admin). */
export function addMember(fetchFn: FetchFn, room: string, name: string, base = ''): Promise<void> {
  return request<void>(fetchFn, 'PUT', `${roomPath(base, room)}/members/${encodeURIComponent(name)}`);
}

/** removeMember removes someone from a private room, or, with one's own name, leaves it. */
export function removeMember(fetchFn: FetchFn, room: string, name: string, base = ''): Promise<void> {
  return request<void>(fetchFn, 'DELETE', `${roomPath(base, room)}/members/${encodeURIComponent(name)}`);
}

/** openDirect returns the direct conversation with names, making it the first time. */
export function openDirect(fetchFn: FetchFn, names: string[], base = ''): Promise<RoomView> {
  return request<RoomView>(fetchFn, 'POST', `${base}/api/direct`, { names });
}

/** fetchEntries returns a page of a room's log, in ascending order. */
export async function fetchEntries(fetchFn: FetchFn, room: string, q: PageQuery, base = ''): Promise<Entry[]> {
  const params = new URLSearchParams();
  if (q.limit !== undefined) params.set('limit', String(q.limit));
  if (q.before !== undefined) params.set('before', String(q.before));
  if (q.after !== undefined) params.set('after', String(q.after));
  const qs = params.toString();
  const url = `${base}/api/rooms/${encodeURIComponent(room)}/messages${qs ? '?' + qs : ''}`;
  const body = await getJSON<{ entries: Entry[] | null }>(fetchFn, url);
  return (body.entries ?? []).slice().sort((a, b) => a.seq - b.seq);
}

/** errorText turns a caught error into a sentence for people. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    // Too many attempts: the wait comes from Retry-After, whatever the words.
    if (e.status === 429 && e.retryAfter !== null) return `Too many attempts. Try again in ${waitText(e.retryAfter)}.`;
    return e.message;
  }
  return 'Something went wrong.';
}

/** waitText says how long seconds is, in words: "1 second", "40 seconds", "3 minutes". */
export function waitText(seconds: number): string {
  if (seconds < 90) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

// ---------------------------------------------------------------------------
// Accounts and sessions.

/** ServerInfo says how people may enter: GET /api/server. */
export interface ServerInfo {
  /** Guests may chat with a nickname alone. */
  guests: boolean;
  /** Anyone may sign up (or the server has no account yet). */
  signup: boolean;
  /** The server has no account: the first to sign up becomes its admin. */
  setup: boolean;
}

/** Account is an account as its owner sees it. */
export interface Account {
  name: string;
  /** Empty when the name is shown. */
  displayName: string;
  admin: boolean;
  createdAt: string;
  deactivatedAt?: string;
}

export type SessionKind = 'guest' | 'account' | 'token';

/** Me says who a session is: GET /api/account. */
export interface Me {
  name: string;
  kind: SessionKind;
  account?: Account;
}

/** SessionInfo is one of an account's sessions: a browser's sign-in or a bearer token. */
export interface SessionInfo {
  /** Names the session in DELETE /api/sessions/{id}; it is not the token. */
  id: string;
  kind: SessionKind;
  /** The browser's User-Agent, or the token's label. */
  label: string;
  createdAt: string;
  expiresAt: string;
  /** The session of the request: this browser. */
  current: boolean;
}

/** SignedIn answers a sign-up or a sign-in; the session's token is in the cookie only. */
export interface SignedIn {
  account: Account;
  session: SessionInfo;
}

/** NewToken is a bearer token just made: the token is shown this once. */
export interface NewToken {
  token: string;
  session: SessionInfo;
}

export function fetchServerInfo(fetchFn: FetchFn, base = ''): Promise<ServerInfo> {
  return getJSON<ServerInfo>(fetchFn, `${base}/api/server`);
}

/** fetchMe says who the browser's cookie signs in, or null when it signs in nobody (401). */
export async function fetchMe(fetchFn: FetchFn, base = ''): Promise<Me | null> {
  try {
    return await getJSON<Me>(fetchFn, `${base}/api/account`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/** signUp makes an account and signs this browser in with it. */
export function signUp(fetchFn: FetchFn, name: string, password: string, displayName: string, base = ''): Promise<SignedIn> {
  return request<SignedIn>(fetchFn, 'POST', `${base}/api/accounts`, { name, password, displayName });
}

/** signIn signs this browser in with an account's name and password. */
export function signIn(fetchFn: FetchFn, name: string, password: string, base = ''): Promise<SignedIn> {
  return request<SignedIn>(fetchFn, 'POST', `${base}/api/sessions`, { name, password });
}

/** signOut ends the browser's session; the server closes its connections. */
export function signOut(fetchFn: FetchFn, base = ''): Promise<void> {
  return request<void>(fetchFn, 'DELETE', `${base}/api/sessions/current`);
}

/** updateAccount changes one's display name ("" shows the name). */
export function updateAccount(fetchFn: FetchFn, displayName: string, base = ''): Promise<Account> {
  return request<Account>(fetchFn, 'PATCH', `${base}/api/account`, { displayName });
}

/** changePassword sets a new password; every other session of the account ends. */
export function changePassword(fetchFn: FetchFn, current: string, next: string, base = ''): Promise<Account> {
  return request<Account>(fetchFn, 'POST', `${base}/api/account/password`, { current, new: next });
}

/** fetchSessions lists one's sessions: browsers and bearer tokens. */
export async function fetchSessions(fetchFn: FetchFn, base = ''): Promise<SessionInfo[]> {
  const body = await getJSON<{ sessions: SessionInfo[] | null }>(fetchFn, `${base}/api/sessions`);
  return body.sessions ?? [];
}

/** revokeSession ends one of one's sessions; the server closes its connections. */
export function revokeSession(fetchFn: FetchFn, id: string, base = ''): Promise<void> {
  return request<void>(fetchFn, 'DELETE', `${base}/api/sessions/${encodeURIComponent(id)}`);
}

/** createToken makes a bearer token for a bot or a script; expiresIn is a Go duration such as "720h". */
export function createToken(fetchFn: FetchFn, label: string, expiresIn: string, base = ''): Promise<NewToken> {
  return request<NewToken>(fetchFn, 'POST', `${base}/api/tokens`, { label, expiresIn });
}
