import { expect, overflows, phone, screenshot, send, signIn, test } from './fixtures';

test('the longest nicknames fit a phone screen', async ({ browser }) => {
  // 32 characters is the most a nickname may have, and W the widest letter.
  const me = 'W'.repeat(32);
  const other = 'M' + 'W'.repeat(31);
  const page = await (await browser.newContext({ viewport: phone })).newPage();
  const them = await (await browser.newContext({ viewport: phone })).newPage();
  await signIn(page, me);
  await signIn(them, other);
  await expect(page.locator('.log .activity', { hasText: `${other} joined` })).toBeVisible();
  await them.getByLabel('Message #general').pressSequentially('Hello from', { delay: 30 });
  await expect(page.getByText(`${other} is typing…`)).toBeVisible();
  expect(await overflows(page)).toEqual([]);
  await them.getByLabel('Message #general').press('Enter');
  await send(page, 'Hello from the widest name there is.');
  await expect(page.locator('.log li.msg .author', { hasText: other })).toBeVisible();
  await expect(page.locator('.log li.msg .author', { hasText: me })).toBeVisible();
  expect(await overflows(page)).toEqual([]);
  await screenshot(page, 'long-names-phone');

  // The online list, in the drawer.
  await page.getByRole('button', { name: /Rooms/ }).click();
  await expect(page.locator('.people-list')).toContainText(other);
  await expect(page.locator('.people-list')).toContainText(`${me} (you)`);
  await expect(page.locator('.drawer')).toBeInViewport({ ratio: 1 });
  expect(await overflows(page)).toEqual([]);
  await screenshot(page, 'long-names-drawer-phone');
});
