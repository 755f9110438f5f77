import type { Browser, Page } from '@playwright/test';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeEvents, encodeFrame, type ServerEvent } from '../src/protocol';
import { expect, phone, screenshot, test } from './fixtures';
import { Server } from './server';

// Accounts in the browser: signing up (the first account is an admin's),
// signing in, the account screen, and the end of a session seen in every
// tab. Each test has its own server, whose database starts empty.

/** makeAccount signs up over REST, as a script would (no Origin, no cookie kept). */
async function makeAccount(url: string, name: string, password: string): Promise<void> {
  const res = await fetch(`${url}/api/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password, displayName: '' }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** signInAccount signs in on the sign-in screen and waits for the chat. */
async function signInAccount(page: Page, account: string, password: string): Promise<void> {
  await page.goto('/');
  const have = page.getByRole('button', { name: 'Have an account? Sign in' });
  const name = page.getByLabel('Account name');
  // Where guests may chat, the screen starts with the nickname.
  await expect(have.or(name)).toBeVisible();
  if (await have.isVisible()) await have.click();
  await name.fill(account);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(page.locator('.whoami')).toContainText(account);
}

async function newPage(browser: Browser, opts: { viewport?: { width: number; height: number } } = {}): Promise<Page> {
  return (await browser.newContext(opts)).newPage();
}

function openAccount(page: Page) {
  return page.getByRole('button', { name: /Signed in as/ }).click();
}

test('the first account made on a new server is an admin’s, and the cookie keeps it signed in', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByText('This is a new Parley server')).toBeVisible();
  // Guests may chat here too (development): the nickname is still there.
  await expect(page.getByLabel('Nickname')).toBeVisible();
  await page.getByRole('button', { name: 'Create the admin account' }).click();
  await expect(page.getByRole('heading', { name: 'Create the admin account' })).toBeVisible();
  await page.getByLabel('Account name').fill('root');
  await page.getByLabel('Display name (optional)').fill('The Admin');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create the admin account' }).click();
  // The server's words.
  await expect(page.getByRole('alert')).toHaveText('The password must have at least 8 characters.');
  await page.getByLabel('Password', { exact: true }).fill('a good long password');
  await page.getByRole('button', { name: 'Create the admin account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(page.locator('.whoami')).toContainText('root');

  await openAccount(page);
  const dialog = page.getByRole('dialog', { name: 'Your account' });
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('.account-summary')).toContainText('admin');
  const display = dialog.getByRole('textbox', { name: 'Display name' });
  await expect(display).toHaveValue('The Admin');
  await display.fill('Root Admin');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('status')).toHaveText('Display name saved.');
  const me = await page.request.get('/api/account');
  expect(await me.json()).toMatchObject({ name: 'root', kind: 'account', account: { admin: true, displayName: 'Root Admin' } });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('button', { name: /Signed in as/ })).toBeFocused();

  // A new visitor sees no set-up any more; a reload goes straight to the chat.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(page.locator('.whoami')).toContainText('root');
  // And messages go out over the cookie's session.
  await page.getByLabel(/^Message #/).fill('hello from root');
  await page.getByLabel(/^Message #/).press('Enter');
  await expect(page.locator('.log li.msg', { hasText: 'hello from root' })).toHaveAttribute('data-status', 'sent');
});

test('signed in in two browsers, one revokes the other: every tab of that browser goes to the sign-in screen', async ({ browser, server }) => {
  await makeAccount(server.url, 'ana', 'ana password 1');
  const laptop = await newPage(browser);
  const phoneTab = await newPage(browser, { viewport: phone });
  await signInAccount(laptop, 'ana', 'ana password 1');
  await signInAccount(phoneTab, 'ana', 'ana password 1');
  // A second tab of the laptop's browser is signed in at once.
  const laptop2 = await laptop.context().newPage();
  await laptop2.goto('/');
  await expect(laptop2.locator('.whoami')).toContainText('ana');

  await openAccount(phoneTab);
  const dialog = phoneTab.getByRole('dialog', { name: 'Your account' });
  // The sign-up's own session (a script's), the laptop's and this one.
  const rows = dialog.locator('.session-list li');
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: 'this device' })).toHaveCount(1);
  const laptopRow = rows.filter({ hasText: /Chrome on / }).filter({ hasNotText: 'this device' });
  await expect(laptopRow).toHaveCount(1);
  await screenshot(phoneTab, 'account-phone');
  await laptopRow.getByRole('button', { name: /^Revoke / }).click();
  await expect(dialog.getByRole('status')).toContainText('was signed out');
  await expect(rows).toHaveCount(2);

  for (const tab of [laptop, laptop2]) {
    await expect(tab.getByRole('status').filter({ hasText: 'You were signed out.' })).toBeVisible();
    await expect(tab.getByRole('button', { name: 'Have an account? Sign in' })).toBeVisible();
  }
  // The phone carries on.
  await expect(dialog).toBeVisible();
  await phoneTab.keyboard.press('Escape');
  await expect(phoneTab.locator('.whoami')).toContainText('ana');
  // And the laptop is signed out for good: a reload does not sign it in.
  await laptop.reload();
  await expect(laptop.getByLabel('Nickname')).toBeVisible();
  await laptop.context().close();
  await phoneTab.context().close();
});

test('changing the password signs the other sessions out, and the new one opens the account', async ({ browser, server }) => {
  await makeAccount(server.url, 'ana', 'old password');
  const a = await newPage(browser);
  const b = await newPage(browser);
  await signInAccount(a, 'ana', 'old password');
  await signInAccount(b, 'ana', 'old password');

  await openAccount(a);
  const dialog = a.getByRole('dialog', { name: 'Your account' });
  await dialog.getByLabel('Current password').fill('not it');
  await dialog.getByLabel('New password').fill('new password');
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('The current password is wrong.');
  await dialog.getByLabel('Current password').fill('old password');
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await expect(dialog.getByRole('status').filter({ hasText: 'Password changed' })).toContainText('other sessions were signed out');
  await expect(dialog.locator('.session-list li')).toHaveCount(1);
  await expect(dialog.locator('.session-list li')).toContainText('this device');

  await expect(b.getByText('You were signed out.')).toBeVisible();
  await b.getByRole('button', { name: 'Have an account? Sign in' }).click();
  await b.getByLabel('Account name').fill('ana');
  await b.getByLabel('Password', { exact: true }).fill('old password');
  await b.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(b.getByRole('alert')).toHaveText('The name or the password is wrong.');
  await b.getByLabel('Password', { exact: true }).fill('new password');
  await b.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(b.locator('.whoami')).toContainText('ana');
  // a stayed signed in, and online.
  await a.keyboard.press('Escape');
  await a.getByLabel(/^Message #/).fill('still here');
  await a.getByLabel(/^Message #/).press('Enter');
  await expect(a.locator('.log li.msg', { hasText: 'still here' })).toHaveAttribute('data-status', 'sent');
  await a.context().close();
  await b.context().close();
});

test('a bearer token is shown once, with a copy button and a warning, and works', async ({ page, server }) => {
  await makeAccount(server.url, 'ana', 'ana password 1');
  await signInAccount(page, 'ana', 'ana password 1');
  await openAccount(page);
  const dialog = page.getByRole('dialog', { name: 'Your account' });
  await dialog.getByLabel('Token label').fill('weather bot');
  await dialog.getByLabel('Expires after').selectOption('720h');
  await dialog.getByRole('button', { name: 'Create token' }).click();
  const made = dialog.locator('.new-token');
  await expect(made).toContainText('shown only this once');
  await expect(made.getByRole('button', { name: 'Copy' })).toBeVisible();
  const token = await made.getByLabel('The new token').inputValue();
  expect(token.length).toBeGreaterThan(10);
  await expect(dialog.locator('.session-list li', { hasText: 'Token “weather bot”' })).toBeVisible();

  // The token speaks for ana, over REST and the WebSocket.
  const me = await fetch(`${server.url}/api/account`, { headers: { Authorization: `Bearer ${token}` } });
  expect(await me.json()).toMatchObject({ name: 'ana', kind: 'token' });
  const welcome = await helloWith(server.url, token);
  expect(welcome).toMatchObject({ type: 'welcome', nick: 'ana' });

  // Closed and opened again, the dialog does not show it any more.
  await dialog.getByRole('button', { name: 'Close' }).click();
  await openAccount(page);
  await expect(page.getByRole('dialog', { name: 'Your account' }).locator('.new-token')).toHaveCount(0);
  await expect(page.getByText(token)).toHaveCount(0);
});

test('a server without guests or sign-ups says how to get in', async ({ browser }) => {
  const bin = process.env.PARLEY_E2E_BIN!;
  const server = await Server.launch(bin, ['-guests=false', '-signup=false']);
  try {
    const page = await (await browser.newContext({ baseURL: server.url })).newPage();
    // New: the first account (the admin's) may still be made, and nothing else is offered.
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Create the admin account' })).toBeVisible();
    await expect(page.getByLabel('Nickname')).toHaveCount(0);

    await makeAccount(server.url, 'root', 'root password');
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByLabel('Nickname')).toHaveCount(0);
    await expect(page.getByRole('button', { name: /Create an account/ })).toHaveCount(0);
    await expect(page.getByText('ask an admin for an account')).toBeVisible();
    await expect(page.locator('code', { hasText: 'parley user add NAME' })).toBeVisible();
    await screenshot(page, 'signin-closed');
    await signInAccount(page, 'root', 'root password');
    await page.context().close();
  } finally {
    await server.dispose();
  }
});

test('a guest sees only sign-out in the account screen, with what an account adds', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Nickname').fill('gus');
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await openAccount(page);
  const dialog = page.getByRole('dialog', { name: 'You are a guest' });
  await expect(dialog).toContainText('An account keeps its name');
  await expect(dialog.getByRole('button')).toHaveText(['Close', 'Sign out']);
  await dialog.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByLabel('Nickname')).toBeVisible();
});

/** helloWith says hello over the WebSocket with a session token and returns the first event. */
async function helloWith(url: string, session: string): Promise<ServerEvent> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const first = new Promise<ServerEvent>((resolve) => {
      ws.on('message', (data) => {
        for (const item of decodeEvents(String(data))) if (item.kind === 'event') resolve(item.event);
      });
    });
    ws.send(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, session }));
    return await first;
  } finally {
    ws.close(1000);
  }
}
