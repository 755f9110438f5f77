import type { Browser, Page } from '@playwright/test';
import { expect, messageTexts, send, test } from './fixtures';

// Accounts in two browsers: direct messages, private rooms that a third
// person cannot see, edits and deletions seen live and after a reload, and
// hostile text that stays text. Each test has its own server.

const password = 'a good long password';

/** makeAccount signs up over REST, as a script would. */
async function makeAccount(url: string, name: string): Promise<void> {
  const res = await fetch(`${url}/api/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password, displayName: '' }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** signInAs opens a new browser, signs in as name and waits for the chat. */
async function signInAs(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto('/');
  const have = page.getByRole('button', { name: 'Have an account? Sign in' });
  const field = page.getByLabel('Account name');
  await expect(have.or(field)).toBeVisible();
  if (await have.isVisible()) await have.click();
  await field.fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  return page;
}

function message(page: Page, text: string) {
  return page.locator('.log li.msg', { hasText: text });
}

test('a direct conversation between two accounts, with edits and deletions seen live and after a reload', async ({ server, browser }) => {
  // The first account is an admin's: make it someone else's.
  await makeAccount(server.url, 'root');
  await makeAccount(server.url, 'ana');
  await makeAccount(server.url, 'bob');
  const ana = await signInAs(browser, 'ana');
  const bob = await signInAs(browser, 'bob');

  await ana.getByRole('button', { name: 'New message' }).click();
  await ana.getByLabel(/^To/).fill('bob');
  await ana.getByRole('button', { name: 'Open conversation' }).click();
  await expect(ana.getByRole('heading', { level: 1, name: 'bob', exact: true })).toBeVisible();
  await send(ana, 'hello bob, this is privat');
  await expect(message(ana, 'hello bob')).toHaveAttribute('data-status', 'sent');

  // Bob's list is read again on load: the conversation is there, named after ana.
  await bob.reload();
  const dm = bob.getByRole('button', { name: /^@?\s*ana/ });
  await expect(dm).toBeVisible();
  await dm.click();
  await expect(bob.getByRole('heading', { level: 1, name: 'ana', exact: true })).toBeVisible();
  await expect(message(bob, 'hello bob')).toBeVisible();
  // Someone else's message offers neither edit nor delete.
  await expect(message(bob, 'hello bob').getByRole('button', { name: 'Edit message' })).toHaveCount(0);
  await expect(message(bob, 'hello bob').getByRole('button', { name: 'Delete message' })).toHaveCount(0);

  // Ana edits with the keyboard: Enter saves.
  await message(ana, 'hello bob').getByRole('button', { name: 'Edit message' }).click();
  const box = ana.getByLabel('Edit message', { exact: true });
  await expect(box).toBeFocused();
  await box.fill('hello bob, this is private');
  await box.press('Enter');
  await expect(message(bob, 'this is private')).toContainText('(edited)');
  await expect(message(ana, 'this is private')).toContainText('(edited)');

  await send(bob, 'oops, wrong window');
  await expect(message(bob, 'oops')).toHaveAttribute('data-status', 'sent');
  await message(bob, 'oops').getByRole('button', { name: 'Delete message' }).click();
  await bob.getByRole('button', { name: 'Delete for everyone' }).click();
  await expect(bob.getByTestId('tombstone')).toHaveText('message deleted');
  await expect(ana.getByTestId('tombstone')).toHaveText('message deleted');
  await expect(ana.locator('.log').getByText('oops, wrong window')).toHaveCount(0);

  // After a reload, both come as they stand.
  await ana.reload();
  await expect(ana.getByRole('heading', { level: 1, name: 'bob', exact: true })).toBeVisible();
  await expect(message(ana, 'this is private')).toContainText('(edited)');
  await expect(ana.getByTestId('tombstone')).toHaveText('message deleted');
  expect(await messageTexts(ana)).not.toContain('oops, wrong window');
});

test('a private room is shown by its title to its members, and to nobody else', async ({ server, browser }) => {
  await makeAccount(server.url, 'root');
  await makeAccount(server.url, 'ana');
  await makeAccount(server.url, 'bob');
  await makeAccount(server.url, 'eve');
  const ana = await signInAs(browser, 'ana');
  await ana.getByRole('button', { name: 'New private room' }).click();
  await ana.getByLabel('Title').fill('Plans');
  await ana.getByLabel('Topic (optional)').fill('The surprise party');
  await ana.getByLabel(/^Members/).fill('bob');
  await ana.getByRole('button', { name: 'Create room' }).click();
  await expect(ana.getByRole('heading', { level: 1, name: 'Private: Plans' })).toBeVisible();
  await expect(ana.locator('.room-topic')).toHaveText('The surprise party');
  await send(ana, 'cake at six');
  await expect(message(ana, 'cake at six')).toHaveAttribute('data-status', 'sent');
  const room = (await ana.locator('.room-list [aria-current="page"]').getAttribute('data-room')) ?? '';
  expect(room).toMatch(/^~/);

  const bob = await signInAs(browser, 'bob');
  await bob.getByRole('button', { name: /Plans/ }).click();
  await expect(message(bob, 'cake at six')).toBeVisible();

  // Eve does not see it in her list, and joining it by name answers not found.
  const eve = await signInAs(browser, 'eve');
  await expect(eve.getByRole('button', { name: /Plans/ })).toHaveCount(0);
  await eve.getByRole('button', { name: 'Browse rooms' }).click();
  await expect(eve.getByRole('list', { name: 'Rooms' }).getByText('general')).toBeVisible();
  await expect(eve.getByRole('list', { name: 'Rooms' })).not.toContainText('Plans');
  await eve.getByRole('button', { name: 'Close' }).click();
  await eve.getByLabel('Join or create a room').fill(room);
  await eve.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(eve.locator('.toast')).toBeVisible();
  await expect(eve.locator(`[data-room="${room}"]`)).toHaveCount(0);

  // Ana removes bob: his tab is closed out (4003), rejoins, and the room goes with a notice.
  await ana.getByRole('button', { name: 'Members' }).click();
  await ana.getByRole('button', { name: 'Remove bob' }).click();
  await expect(ana.getByRole('list', { name: 'Members' })).not.toContainText('bob');
  await expect(bob.getByText('“Plans” was deleted, or you no longer have access to it.')).toBeVisible();
  await expect(bob.locator(`[data-room="${room}"]`)).toHaveCount(0);
});

test('hostile text in messages, room titles, topics and names stays text', async ({ server, browser }) => {
  await makeAccount(server.url, 'root');
  await makeAccount(server.url, 'ana');
  const ana = await signInAs(browser, 'ana');
  const dialogs: string[] = [];
  ana.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const img = '<img src=x onerror=alert(1)>';
  await ana.getByRole('button', { name: 'New private room' }).click();
  await ana.getByLabel('Title').fill(img);
  // The server refuses reordering characters in titles and topics; messages show them as markers.
  await ana.getByLabel('Topic (optional)').fill('javascript:alert(2) <b>bold</b>');
  await ana.getByRole('button', { name: 'Create room' }).click();
  await expect(ana.locator('.room-header h1')).toContainText(img);
  await expect(ana.locator('.room-topic')).toHaveText('javascript:alert(2) <b>bold</b>');
  await expect(ana.locator('.room-topic a, .room-topic b')).toHaveCount(0);
  await send(ana, `${img} [x](javascript:alert(3)) javascript:alert(4) invoice_\u202Etxt.exe`);
  const m = message(ana, 'invoice');
  await expect(m).toHaveAttribute('data-status', 'sent');
  await expect(m.locator('.text')).toContainText(img);
  await expect(m.locator('.text')).toContainText('⟨U+202E⟩');
  await expect(m.locator('img')).toHaveCount(0);
  await expect(m.locator('a')).toHaveCount(0);
  await expect(ana.locator('.room-list img, .room-header img, .log img')).toHaveCount(0);
  await ana.reload();
  await expect(ana.locator('.room-header h1')).toContainText(img);
  expect(dialogs).toEqual([]);
});
