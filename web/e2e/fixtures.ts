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
  const box = page.getByLabel(/^Message #/);
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
