import type { Page } from '@playwright/test';
import { expect, signIn, test } from './fixtures';

// Who someone is (nickname and session) is kept in localStorage: every tab
// of a browser context is the same person, a closed tab or browser keeps
// the nickname for as long as the server keeps the session, and signing out
// frees it at once.

/** inChat waits until page shows general, signed in as nick, without the sign-in form. */
async function inChat(page: Page, nick: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(page.locator('.whoami')).toContainText(nick);
  await expect(page.getByLabel('Nickname')).toHaveCount(0);
}

/** refused tries nick on the sign-in screen of page and waits for the "taken" error. */
async function refused(page: Page, nick: string): Promise<void> {
  await page.getByLabel('Nickname').fill(nick);
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await expect(page.getByText(`The nickname "${nick}" is taken. Choose another.`)).toBeVisible();
}

test('signing out frees the nickname at once for someone else', async ({ browser, server }) => {
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  await signIn(a, 'ana');
  await a.getByRole('button', { name: 'Sign out' }).click();
  await expect(a.getByRole('button', { name: 'Enter chat' })).toBeVisible();
  // Without waiting out any grace period: the server ended the session.
  await signIn(b, 'ana');
  await expect(b.locator('.people-list')).toContainText('ana');
  void server;
});

test('closing the tab, or the browser, keeps the nickname', async ({ browser, server }) => {
  const context = await browser.newContext();
  const first = await context.newPage();
  await signIn(first, 'ana');
  await first.getByLabel('Join or create a room').fill('random');
  await first.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(first.getByRole('heading', { level: 1, name: 'random', exact: true })).toBeVisible();
  await first.close();

  // With no tab of ana open, the nickname is still hers.
  const other = await (await browser.newContext()).newPage();
  await other.goto('/');
  await refused(other, 'ana');

  // A new tab is ana at once, in general (the rooms were the closed tab's).
  const second = await context.newPage();
  await second.goto('/');
  await inChat(second, 'ana');
  await expect(second.locator('.people-list')).toContainText('ana');

  // A browser restart keeps localStorage: the same again.
  const state = await context.storageState();
  await context.close();
  const reopened = await (await browser.newContext({ storageState: state })).newPage();
  await reopened.goto('/');
  await inChat(reopened, 'ana');
  await refused(other, 'Ana');
  void server;
});

test('two tabs are one person, signed in and out together', async ({ browser, server }) => {
  const context = await browser.newContext();
  const waiting = await context.newPage(); // on the sign-in screen before the other tab signs in
  await waiting.goto('/');
  await expect(waiting.getByRole('button', { name: 'Enter chat' })).toBeVisible();
  const first = await context.newPage();
  await signIn(first, 'ana');
  const opened = await context.newPage(); // opened after
  await opened.goto('/');

  for (const page of [first, opened, waiting]) {
    await inChat(page, 'ana');
    await expect(page.locator('.people-list li')).toHaveText(['ana (you)']);
    await expect(page.locator('.log .activity', { hasText: 'ana joined' })).toHaveCount(1);
  }
  await expect(first.getByText('Online 1')).toBeVisible();

  // Signing out in one tab signs the others out: the server ends the session.
  await opened.getByRole('button', { name: 'Sign out' }).click();
  for (const page of [first, opened, waiting]) {
    await expect(page.getByRole('button', { name: 'Enter chat' })).toBeVisible();
    await expect(page.getByLabel('Nickname')).toHaveValue('ana');
  }
  void server;
});
