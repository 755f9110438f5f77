import type { Browser, Page } from '@playwright/test';
import { expect, send, test } from './fixtures';

// A room archived and then deleted by an admin, as another account in its
// own browser sees it: a send refused as archived, a read-only composer
// after a reload, and the room gone (closed out with 4003, then its join
// answers not_found).

const password = 'a good long password';

async function makeAccount(url: string, name: string): Promise<void> {
  const res = await fetch(`${url}/api/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password, displayName: '' }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

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

test('an admin archives a room, then deletes it, as another browser sees it', async ({ server, browser }) => {
  // The first account is the admin.
  await makeAccount(server.url, 'root');
  await makeAccount(server.url, 'bob');
  const root = await signInAs(browser, 'root');
  await root.getByRole('button', { name: 'New private room' }).click();
  await root.getByLabel('Title').fill('Plans');
  await root.getByLabel(/^Members/).fill('bob');
  await root.getByRole('button', { name: 'Create room' }).click();
  await expect(root.getByRole('heading', { level: 1, name: 'Private: Plans' })).toBeVisible();
  const room = (await root.locator('.room-list [aria-current="page"]').getAttribute('data-room')) ?? '';

  const bob = await signInAs(browser, 'bob');
  await bob.getByRole('button', { name: /Plans/ }).click();
  await send(bob, 'before the archive');
  await expect(bob.locator('.log li.msg', { hasText: 'before the archive' })).toHaveAttribute('data-status', 'sent');
  // Bob is no owner and no admin: he may read the room's details, not manage it.
  await bob.getByRole('button', { name: 'About' }).click();
  await expect(bob.getByRole('button', { name: 'Archive room' })).toHaveCount(0);
  await bob.getByRole('button', { name: 'Close' }).click();

  // The admin edits the topic and archives the room.
  await root.getByRole('button', { name: 'About' }).click();
  await root.getByLabel('Topic').fill('Done and dusted');
  await root.getByRole('button', { name: 'Save' }).click();
  await expect(root.getByRole('status')).toHaveText('Saved.');
  await root.getByRole('button', { name: 'Archive room' }).click();
  await expect(root.getByRole('button', { name: 'Unarchive room' })).toBeVisible();
  await root.getByRole('button', { name: 'Close' }).click();
  await expect(root.getByTestId('archived')).toHaveText('Archived: read-only');
  await expect(root.locator('#composer')).toBeDisabled();

  // Bob's tab does not know yet: his send is refused with the server's words, once, and the room turns read-only.
  await send(bob, 'after the archive');
  const refused = bob.locator('.log li.msg', { hasText: 'after the archive' });
  await expect(refused).toHaveAttribute('data-status', 'failed');
  await expect(refused).toContainText(/archived/i);
  await expect(bob.locator('#composer')).toBeDisabled();
  // After a reload the list says so: read-only at once, the topic changed, and no edit or delete buttons.
  await bob.reload();
  await bob.getByRole('button', { name: /Plans/ }).click();
  await expect(bob.getByTestId('archived')).toBeVisible();
  await expect(bob.locator('#composer')).toBeDisabled();
  await expect(bob.locator('.room-topic')).toHaveText('Done and dusted');
  await expect(bob.locator('.log li.msg', { hasText: 'before the archive' })).toBeVisible();
  await expect(bob.getByRole('button', { name: /^Edit/ })).toHaveCount(0);

  // The admin deletes it, after confirming: bob is closed out (4003), his rejoin answers not_found, and the room goes with a notice.
  await root.getByRole('button', { name: 'About' }).click();
  await root.getByRole('button', { name: 'Delete room…' }).click();
  await root.getByRole('button', { name: 'Delete for everyone' }).click();
  await expect(root.getByText('“Plans” was deleted.')).toBeVisible();
  await expect(root.locator(`[data-room="${room}"]`)).toHaveCount(0);
  await expect(bob.getByText('“Plans” was deleted, or you no longer have access to it.')).toBeVisible();
  await expect(bob.locator(`[data-room="${room}"]`)).toHaveCount(0);
  await bob.reload();
  await expect(bob.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(bob.locator(`[data-room="${room}"]`)).toHaveCount(0);
});
