import type { Locator, Page } from '@playwright/test';
import { expect, overflows, phone, screenshot, send, signIn, test, type Win } from './fixtures';

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

test('right-to-left text reads right to left, and characters that reorder text are shown, not obeyed', async ({ browser }) => {
  const ana = await (await browser.newContext()).newPage();
  const sara = await (await browser.newContext()).newPage();
  await signIn(ana, 'ana');
  await signIn(sara, 'سارة');
  await send(sara, 'مرحبا بالجميع، هذا اختبار');
  await send(ana, 'hello, Sara');
  await send(ana, 'see invoice_\u202Etxt.exe and \u2067abc\u2069');

  const direction = (l: Locator) => l.evaluate((el) => (globalThis as unknown as Win).getComputedStyle(el).direction);
  const arabic = ana.locator('.log li.msg[data-from="سارة"]');
  await expect(arabic.locator('.text')).toHaveAttribute('dir', 'auto');
  expect(await direction(arabic.locator('.text'))).toBe('rtl');
  await expect(arabic.locator('.author')).toHaveAttribute('dir', 'auto');
  expect(await direction(arabic.locator('.author'))).toBe('rtl');
  const english = ana.locator('.log li.msg', { hasText: 'hello, Sara' }).locator('.text');
  await expect(english).toHaveAttribute('dir', 'auto');
  expect(await direction(english)).toBe('ltr');
  const person = ana.locator('.people-list .nick', { hasText: 'سارة' });
  await expect(person).toHaveAttribute('dir', 'auto');
  expect(await direction(person)).toBe('rtl');
  await expect(sara.locator('.whoami strong')).toHaveAttribute('dir', 'auto');

  // The override and the isolates are markers, in the order they came.
  await expect(ana.locator('.log li.msg .text', { hasText: 'invoice_' })).toHaveText('see invoice_⟨U+202E⟩txt.exe and ⟨U+2067⟩abc⟨U+2069⟩');
  await screenshot(ana, 'rtl-desktop');
});

test('the theme switch chooses light or dark over the system setting, and a reload keeps the choice', async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: 'light' });
  const page = await context.newPage();
  const light = 'rgb(246, 247, 249)';
  const dark = 'rgb(21, 23, 28)';
  const background = (p: Page) => p.locator('html').evaluate((el) => (globalThis as unknown as Win).getComputedStyle(el).backgroundColor);
  await signIn(page, 'ana');
  const theme = page.getByLabel('Theme');
  await expect(theme).toHaveValue('system');
  expect(await background(page)).toBe(light);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(() => background(page)).toBe(dark);

  // Light, in a dark system.
  await theme.selectOption('light');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect.poll(() => background(page)).toBe(light);
  await page.reload();
  await expect(page.getByLabel('Theme')).toHaveValue('light');
  expect(await background(page)).toBe(light);

  // Dark, in a light system; another tab follows.
  await page.emulateMedia({ colorScheme: 'light' });
  const other = await context.newPage();
  await other.goto('/');
  await expect(other.getByLabel('Theme')).toHaveValue('light');
  await page.getByLabel('Theme').selectOption('dark');
  await expect.poll(() => background(page)).toBe(dark);
  await expect.poll(() => background(other)).toBe(dark);
  await expect(other.getByLabel('Theme')).toHaveValue('dark');
  await screenshot(page, 'chat-desktop-dark-chosen');
  await page.reload();
  await expect(page.getByLabel('Theme')).toHaveValue('dark');
  expect(await background(page)).toBe(dark);

  // Back to the system's.
  await page.getByLabel('Theme').selectOption('system');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  await expect.poll(() => background(page)).toBe(light);
  await page.reload();
  await expect(page.getByLabel('Theme')).toHaveValue('system');
  expect(await background(page)).toBe(light);
});
