import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect, test } from './fixtures';

/** get fetches url as it comes over the wire, with no decoding. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('the script and styles come compressed to a client that accepts it, and decode to the same bytes', async ({ server }) => {
  const page = (await get(server.url + '/')).body.toString();
  const assets = [...page.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  expect(assets.length, `assets linked from index.html: ${page}`).toBeGreaterThanOrEqual(2);
  for (const asset of assets) {
    const plain = await get(server.url + asset);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    for (const [accept, coding, decode] of [
      ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
      ['gzip', 'gzip', gunzipSync],
      ['br;q=0, gzip;q=1', 'gzip', gunzipSync],
    ] as const) {
      const res = await get(server.url + asset, { 'Accept-Encoding': accept });
      expect(res.headers['content-encoding'], `${asset} with Accept-Encoding ${accept}`).toBe(coding);
      expect(res.headers['vary']).toBe('Accept-Encoding');
      expect(res.headers['content-type']).toBe(plain.headers['content-type']);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      expect(res.body.length).toBeLessThan(plain.body.length / 2);
      expect(decode(res.body).equals(plain.body), `${asset} in ${coding} decodes to the file`).toBe(true);
    }
  }
});

test('the icons, the manifest and robots.txt are real files, and missing files are 404', async ({ server }) => {
  const manifest = await get(server.url + '/manifest.webmanifest');
  expect(manifest.status).toBe(200);
  expect(manifest.headers['content-type']).toBe('application/manifest+json');
  const m = JSON.parse(manifest.body.toString()) as { icons: { src: string; sizes: string; type: string }[] };
  for (const icon of m.icons) {
    const res = await get(server.url + icon.src);
    expect(res.status, icon.src).toBe(200);
    expect(res.headers['content-type']).toBe(icon.type);
    if (icon.type === 'image/png') {
      // The PNG's IHDR chunk holds its width and height.
      expect(`${res.body.readUInt32BE(16)}x${res.body.readUInt32BE(20)}`, icon.src).toBe(icon.sizes);
    }
  }
  const favicon = await get(server.url + '/favicon.ico');
  expect([favicon.status, favicon.headers['content-type'], favicon.body.readUInt16LE(2)]).toEqual([200, 'image/x-icon', 1]);
  const robots = await get(server.url + '/robots.txt');
  expect([robots.status, robots.headers['content-type']]).toEqual([200, 'text/plain; charset=utf-8']);
  expect(robots.body.toString()).toContain('User-agent: *');

  for (const missing of ['/nope.png', '/apple-touch-icon-precomposed.png', '/sitemap.xml']) {
    const res = await get(server.url + missing);
    expect([missing, res.status, res.headers['content-type']]).toEqual([missing, 404, 'application/json; charset=utf-8']);
    expect(JSON.parse(res.body.toString())).toEqual({ error: { code: 'not_found', message: `There is no file at ${missing}.` } });
  }
  const route = await get(server.url + '/rooms/general');
  expect([route.status, route.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
});
