import { describe, expect, it } from 'vitest';
import { ApiError, errorText, fetchEntries, fetchRooms, type FetchFn } from './rest';

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
