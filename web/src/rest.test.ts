import { describe, expect, it } from 'vitest';
import {
  ApiError,
  changePassword,
  createToken,
  errorText,
  fetchEntries,
  fetchMe,
  fetchRooms,
  fetchServerInfo,
  fetchSessions,
  revokeSession,
  signIn,
  signOut,
  signUp,
  updateAccount,
  type FetchFn,
} from './rest';

function answer(status: number, body: string): FetchFn {
  return async () => new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
}

describe('REST', () => {
  it('lists rooms, an empty list for null', async () => {
    const rooms = [{ name: 'general', lastSeq: 3, online: 2, createdAt: '2026-11-22T09:00:00Z' }];
    expect(await fetchRooms(answer(200, JSON.stringify({ rooms })))).toEqual(rooms);
    expect(await fetchRooms(answer(200, '{"rooms":null}'))).toEqual([]);
  });

  it('asks for a page with its query and returns it in ascending order', async () => {
    const urls: string[] = [];
    const fetchFn: FetchFn = async (input) => {
      urls.push(input);
      return new Response(JSON.stringify({ entries: [{ seq: 5 }, { seq: 4 }] }), { status: 200 });
    };
    const page = await fetchEntries(fetchFn, 'café #1', { limit: 50, before: 6 }, 'http://parley.test');
    expect(urls).toEqual(['http://parley.test/api/rooms/caf%C3%A9%20%231/messages?limit=50&before=6']);
    expect(page.map((e) => e.seq)).toEqual([4, 5]);
  });

  it('turns an error answer into an ApiError with the server code and message', async () => {
    const err = await fetchEntries(answer(404, '{"error":{"code":"not_found","message":"Room not found."}}'), 'x', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'Room not found.' });
    expect(errorText(err)).toBe('Room not found.');
  });

  it('says so when the answer has no JSON, or the server cannot be reached', async () => {
    const html = await fetchRooms(answer(502, '<html>Bad Gateway</html>')).catch((e: unknown) => e);
    expect(html).toMatchObject({ status: 502, code: 'http_502', message: 'The server answered 502.' });
    const down = await fetchRooms(() => Promise.reject(new TypeError('Failed to fetch'))).catch((e: unknown) => e);
    expect(down).toMatchObject({ status: 0, code: 'network', message: 'The server cannot be reached.' });
    expect(errorText(new Error('boom'))).toBe('Something went wrong.');
  });
});

/** recorder answers every request with status and body, and keeps what was asked. */
function recorder(status: number, body: string | null, headers: Record<string, string> = {}) {
  const calls: { url: string; method: string; contentType: string | null; body: unknown }[] = [];
  const fetchFn: FetchFn = async (url, init) => {
    const h = new Headers(init?.headers);
    calls.push({
      url,
      method: init?.method ?? 'GET',
      contentType: h.get('Content-Type'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    return new Response(body, { status, headers: { 'Content-Type': 'application/json', ...headers } });
  };
  return { calls, fetchFn };
}

describe('REST accounts', () => {
  const account = { name: 'ana', displayName: 'Ana', admin: true, createdAt: '2026-11-22T09:00:00Z' };
  const session = { id: 's1', kind: 'account', label: 'Firefox', createdAt: '2026-11-22T09:00:00Z', expiresAt: '2026-12-22T09:00:00Z', current: true };

  it('signs up and in with JSON bodies, as POSTs the server takes', async () => {
    const r = recorder(201, JSON.stringify({ account, session }));
    expect(await signUp(r.fetchFn, 'ana', 'correct horse', 'Ana')).toEqual({ account, session });
    expect(await signIn(r.fetchFn, 'ana', 'correct horse')).toEqual({ account, session });
    expect(r.calls).toEqual([
      { url: '/api/accounts', method: 'POST', contentType: 'application/json', body: { name: 'ana', password: 'correct horse', displayName: 'Ana' } },
      { url: '/api/sessions', method: 'POST', contentType: 'application/json', body: { name: 'ana', password: 'correct horse' } },
    ]);
  });

  it('reads who the cookie signs in, and null when it signs in nobody', async () => {
    const me = { name: 'ana', kind: 'account', account };
    expect(await fetchMe(recorder(200, JSON.stringify(me)).fetchFn)).toEqual(me);
    expect(await fetchMe(answer(401, '{"error":{"code":"unauthenticated","message":"Sign in first."}}'))).toBeNull();
    await expect(fetchMe(answer(500, '{"error":{"code":"internal","message":"Oops."}}'))).rejects.toMatchObject({ status: 500 });
  });

  it('reads the server info', async () => {
    expect(await fetchServerInfo(answer(200, '{"guests":false,"signup":true,"setup":true}'))).toEqual({ guests: false, signup: true, setup: true });
  });

  it('ends, lists and revokes sessions; 204 answers with nothing', async () => {
    const r = recorder(204, null);
    await signOut(r.fetchFn);
    await revokeSession(r.fetchFn, 'a/b');
    expect(r.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['DELETE /api/sessions/current', 'DELETE /api/sessions/a%2Fb']);
    expect(await fetchSessions(answer(200, JSON.stringify({ sessions: [session] })))).toEqual([session]);
    expect(await fetchSessions(answer(200, '{"sessions":null}'))).toEqual([]);
  });

  it('changes the display name and the password, and makes tokens', async () => {
    const r = recorder(200, JSON.stringify(account));
    await updateAccount(r.fetchFn, 'Ana B');
    await changePassword(r.fetchFn, 'old one', 'new one!');
    expect(r.calls).toEqual([
      { url: '/api/account', method: 'PATCH', contentType: 'application/json', body: { displayName: 'Ana B' } },
      { url: '/api/account/password', method: 'POST', contentType: 'application/json', body: { current: 'old one', new: 'new one!' } },
    ]);
    const t = recorder(201, JSON.stringify({ token: 'secret', session: { ...session, kind: 'token', current: false } }));
    expect((await createToken(t.fetchFn, 'bot', '720h')).token).toBe('secret');
    expect(t.calls[0]).toMatchObject({ url: '/api/tokens', method: 'POST', body: { label: 'bot', expiresIn: '720h' } });
  });

  it('says how long to wait when the server asks for it (429 with Retry-After)', async () => {
    const r = recorder(429, '{"error":{"code":"rate_limited","message":"Too many failed attempts; try again in 40 seconds."}}', { 'Retry-After': '40' });
    const err = await signIn(r.fetchFn, 'ana', 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 40 });
    expect(errorText(err)).toBe('Too many attempts. Try again in 40 seconds.');
    expect(errorText(new ApiError(429, 'rate_limited', 'Slow down.', 300))).toBe('Too many attempts. Try again in 5 minutes.');
    // Without the header, the server's words.
    expect(errorText(new ApiError(429, 'rate_limited', 'Slow down.'))).toBe('Slow down.');
    const wrong = await signIn(answer(401, '{"error":{"code":"invalid_credentials","message":"The name or the password is wrong."}}'), 'ana', 'x').catch((e: unknown) => e);
    expect(errorText(wrong)).toBe('The name or the password is wrong.');
    expect(wrong).toMatchObject({ retryAfter: null });
  });
});
