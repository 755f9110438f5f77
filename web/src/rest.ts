// The REST API of docs/openapi.json that the client reads: the list of rooms
// and pages of a room's log. fetch is passed in, so that tests answer it.

import type { Entry } from './protocol';

/** Room is an item of GET /api/rooms. */
export interface Room {
  name: string;
  lastSeq: number;
  online: number;
  createdAt: string;
}

/** ApiError is an error answer of the REST API, or a failure to reach it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

async function getJSON<T>(fetchFn: FetchFn, url: string): Promise<T> {
  let res: Response;
  try {
    res = await fetchFn(url, { headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // A proxy's HTML error page, or no body at all.
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `The server answered ${res.status}.`);
  }
  return body as T;
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
  if (e instanceof ApiError) return e.message;
  return 'Something went wrong.';
}
