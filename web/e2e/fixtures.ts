import { test as base, expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeEvents, encodeFrame, type ServerEvent } from '../src/protocol';
import { Server } from './server';

/** test gives every test its own parley server, and points baseURL at it. */
export const test = base.extend<{ server: Server }>({
  server: async ({}, use, testInfo) => {
    const bin = process.env.PARLEY_E2E_BIN;
    if (!bin) throw new Error('PARLEY_E2E_BIN is not set: global setup did not run');
    const server = await Server.launch(bin);
    await use(server);
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('parley.log', { body: server.log, contentType: 'text/plain' });
    }
    await server.dispose();
  },
  baseURL: async ({ server }, use) => {
    await use(server.url);
  },
  // Every test's page runs under the server's Content-Security-Policy; a
  // violation (the browser reports it as a console error) fails the test.
  page: async ({ page }, use) => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await use(page);
    expect(violations, 'Content-Security-Policy violations').toEqual([]);
  },
});

export { expect };

const shots = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');

/** screenshot saves a picture of the page for people to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), animations: 'disabled' });
}

export const phone = { width: 390, height: 844 };

/** signIn opens the app and enters with nick, then waits for general. */
export async function signIn(page: Page, nick: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Nickname').fill(nick);
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(page.locator('.whoami')).toContainText(nick);
}

/** messageTexts returns the texts of the messages shown, top to bottom. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator('.log li.msg .text').allTextContents();
}

/** send types text in the message box and presses Enter. */
export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel(/^Message /);
  await box.fill(text);
  await box.press('Enter');
}

/**
 * seed sends texts to room as nick over the WebSocket protocol, one after
 * another, each waiting for its ack, at a pace within the rate limit.
 */
export async function seed(serverURL: string, nick: string, room: string, texts: string[]): Promise<void> {
  const ws = new WebSocket(serverURL.replace(/^http/, 'ws') + '/ws');
  // Only the events matter here: the entries of the room's log are not read.
  const events: ServerEvent[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    for (const item of decodeEvents(String(data))) if (item.kind === 'event') events.push(item.event);
    wake?.();
  });
  const next = async (pred: (e: ServerEvent) => boolean): Promise<ServerEvent> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = events.findIndex(pred);
      if (i >= 0) return events.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`seed: no matching event; have ${JSON.stringify(events.slice(-5))}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick }));
  await next((e) => e.type === 'welcome');
  ws.send(encodeFrame({ type: 'join', room }));
  await next((e) => e.type === 'joined');
  for (const [i, text] of texts.entries()) {
    const clientId = `seed-${nick}-${i}`;
    for (;;) {
      ws.send(encodeFrame({ type: 'send', room, clientId, text }));
      const e = await next((e) => (e.type === 'ack' || e.type === 'error') && e.clientId === clientId);
      if (e.type === 'ack') break;
      if (e.type !== 'error' || e.code !== 'rate_limited') throw new Error(`seed: ${JSON.stringify(e)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // The first frames ride the burst allowance (40); then stay under 20 a second.
    if (i >= 30) await new Promise((r) => setTimeout(r, 55));
  }
  ws.close(1000);
}

/** The little of the DOM that the tests read in the page; e2e code is type-checked without the DOM library. */
interface Box {
  left: number;
  right: number;
  width: number;
  height: number;
}
interface El {
  tagName: string;
  id: string;
  classList: ArrayLike<string> & Iterable<string>;
  textContent: string | null;
  parentElement: El | null;
  scrollWidth: number;
  clientWidth: number;
  getBoundingClientRect(): Box;
}
interface TextNode {
  data: string;
  parentElement: El | null;
}
export interface Win {
  innerWidth: number;
  NodeFilter: { SHOW_TEXT: number };
  document: {
    documentElement: El;
    body: El & { querySelectorAll(selector: string): Iterable<El> };
    createTreeWalker(root: El, what: number): { nextNode(): TextNode | null };
    createRange(): { selectNodeContents(n: TextNode): void; getBoundingClientRect(): Box };
  };
  getComputedStyle(el: El): { display: string; visibility: string; overflowX: string; direction: string; backgroundColor: string };
}

/**
 * overflows lists what sticks out of the viewport sideways: the document
 * wider than the window, an element or a run of text whose visible part
 * (after the clipping of its ancestors) reaches past either edge, or a box
 * that scrolls sideways. Hidden elements (the closed drawer) do not count.
 */
export function overflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = globalThis as unknown as Win;
    const doc = w.document;
    const vw = w.innerWidth;
    const out: string[] = [];
    const root = doc.documentElement;
    if (root.scrollWidth > vw) out.push(`document: scrollWidth ${root.scrollWidth} > ${vw}`);
    const name = (el: El) =>
      el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (el.classList.length ? `.${[...el.classList].join('.')}` : '');
    const hidden = (el: El) => {
      const cs = w.getComputedStyle(el);
      return cs.display === 'none' || cs.visibility === 'hidden';
    };
    // check reports r, clipped by every ancestor of el (el included) that clips.
    const check = (what: string, r: Box, el: El | null) => {
      if (r.width === 0 || r.height === 0) return;
      let left = r.left;
      let right = r.right;
      for (let a = el; a && a !== root; a = a.parentElement) {
        if (w.getComputedStyle(a).overflowX === 'visible') continue;
        const ar = a.getBoundingClientRect();
        left = Math.max(left, ar.left);
        right = Math.min(right, ar.right);
      }
      if (right > left && (left < -0.5 || right > vw + 0.5)) out.push(`${what}: ${Math.round(left)}..${Math.round(right)} of ${vw}`);
    };
    for (const el of doc.body.querySelectorAll('*')) {
      if (hidden(el)) continue;
      check(`${name(el)} "${(el.textContent ?? '').slice(0, 40)}"`, el.getBoundingClientRect(), el.parentElement);
      const cs = w.getComputedStyle(el);
      if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth) {
        out.push(`${name(el)} scrolls sideways: scrollWidth ${el.scrollWidth} > ${el.clientWidth}`);
      }
    }
    const texts = doc.createTreeWalker(doc.body, w.NodeFilter.SHOW_TEXT);
    const range = doc.createRange();
    for (let t = texts.nextNode(); t; t = texts.nextNode()) {
      if (!t.parentElement || hidden(t.parentElement) || !t.data.trim()) continue;
      range.selectNodeContents(t);
      check(`text "${t.data.slice(0, 40)}" in ${name(t.parentElement)}`, range.getBoundingClientRect(), t.parentElement);
    }
    return out;
  });
}
