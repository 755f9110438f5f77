import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, phone, screenshot, send, signIn, test } from './fixtures';

// WCAG 2.1 level AA, as axe-core checks it: every view must have no violation.
const wcag21aa = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** active describes the focused element: whether it is in the drawer, and its start. */
function active(page: Page): Promise<{ inDrawer: boolean; html: string }> {
  return page.evaluate(() => {
    // e2e code is type-checked without the DOM library: the little it reads.
    type El = { closest(s: string): El | null; outerHTML: string };
    const el = (globalThis as unknown as { document: { activeElement: El | null } }).document.activeElement;
    return { inDrawer: !!el?.closest('#drawer'), html: el?.outerHTML.slice(0, 80) ?? 'nothing' };
  });
}

/** violations runs axe-core on the page and describes what it finds, one line a rule. */
async function violations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(wcag21aa).analyze();
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).join(' | ')}`);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`the sign-in, chat and phone views meet WCAG 2.1 AA (${colorScheme})`, async ({ browser }) => {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    const other = await (await browser.newContext({ colorScheme })).newPage();

    await page.goto('/');
    await expect(page.getByLabel('Nickname')).toBeVisible();
    expect(await violations(page), 'sign-in view').toEqual([]);
    // With the error shown too.
    await page.getByRole('button', { name: 'Enter chat' }).click();
    await expect(page.getByRole('alert')).not.toBeEmpty();
    expect(await violations(page), 'sign-in view with an error').toEqual([]);

    // The chat: one's own messages and another's, times, a join line, a link, the hint under the box.
    await signIn(page, 'ana');
    await signIn(other, 'bob');
    await send(other, 'Hello Ana, see https://example.com/notes');
    await send(page, 'Hi Bob, reading it now.');
    await expect(page.locator('.log li.msg', { hasText: 'reading it now' })).toHaveAttribute('data-status', 'sent');
    await expect(page.locator('.log li.msg', { hasText: 'Hello Ana' })).toBeVisible();
    await page.getByLabel('Join or create a room').fill('random');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'random', exact: true })).toBeVisible();
    await page.getByRole('button', { name: /general/ }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
    expect(await violations(page), 'chat view').toEqual([]);

    // The phone view, and its drawer open.
    await page.setViewportSize(phone);
    expect(await violations(page), 'phone view').toEqual([]);
    await page.getByRole('button', { name: /Rooms/ }).click();
    await expect(page.getByRole('dialog', { name: 'Rooms and people online' })).toBeVisible();
    await expect(page.locator('.drawer')).toBeInViewport({ ratio: 1 });
    expect(await violations(page), 'phone view, drawer open').toEqual([]);
    await screenshot(page, `a11y-drawer-phone-${colorScheme}`);
  });
}

test('the phone drawer holds focus while it is open, and gives it back when it closes', async ({ browser }) => {
  const page = await (await browser.newContext({ viewport: phone })).newPage();
  await signIn(page, 'ana');
  const toggle = page.getByRole('button', { name: /Rooms/ });
  await toggle.click();
  const drawer = page.locator('#drawer');
  await expect(drawer).toBeInViewport({ ratio: 1 });
  // Focus is in the drawer, on the room in view.
  await expect(page.getByRole('button', { name: /general/ })).toBeFocused();

  // The covered page is inert: no Tab stop and nothing for screen readers.
  for (const part of ['header.topbar', 'main.room', '.skip-link']) {
    await expect(page.locator(part)).toHaveAttribute('inert', '');
  }
  // The message box cannot take focus even when asked.
  const composer = page.getByRole('textbox', { name: 'Message #general' });
  await composer.evaluate((el) => (el as unknown as { focus(): void }).focus());
  await expect(composer).not.toBeFocused();

  // Tab and Shift+Tab go round inside the drawer, however often.
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    const a = await active(page);
    expect(a.inDrawer, `after ${i + 1} Tab presses, focus is on ${a.html}`).toBe(true);
    seen.add(a.html);
  }
  expect(seen.size, 'Tab reaches every stop of the drawer').toBeGreaterThanOrEqual(4);
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Shift+Tab');
    const a = await active(page);
    expect(a.inDrawer, `after ${i + 1} Shift+Tab presses, focus is on ${a.html}`).toBe(true);
  }

  // Escape closes it; focus goes back to the button that opened it, and the page is live again.
  await page.keyboard.press('Escape');
  await expect(drawer).not.toBeInViewport();
  await expect(toggle).toBeFocused();
  await expect(page.locator('main.room')).not.toHaveAttribute('inert');
  await composer.evaluate((el) => (el as unknown as { focus(): void }).focus());
  await expect(composer).toBeFocused();

  // The Close button in the drawer does the same.
  await toggle.click();
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await expect(drawer).not.toBeInViewport();
  await expect(toggle).toBeFocused();
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`the account forms and the account screen meet WCAG 2.1 AA (${colorScheme})`, async ({ browser }) => {
    const page = await (await browser.newContext({ colorScheme })).newPage();
    await page.goto('/');
    // A new server: the set-up note, and the admin's sign-up with an error.
    await page.getByRole('button', { name: 'Create the admin account' }).click();
    await page.getByLabel('Account name').fill('root');
    await page.getByRole('button', { name: 'Create the admin account' }).click();
    await expect(page.getByRole('alert')).not.toBeEmpty();
    expect(await violations(page), 'sign-up view with an error').toEqual([]);
    await page.getByLabel('Password', { exact: true }).fill('root password');
    await page.getByRole('button', { name: 'Create the admin account' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();

    // The account screen, with a token just made, at desktop and phone width.
    await page.getByRole('button', { name: /Signed in as/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Your account' });
    await dialog.getByLabel('Token label').fill('bot');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await expect(dialog.locator('.new-token')).toBeVisible();
    await expect(dialog.locator('.session-list li')).toHaveCount(2);
    expect(await violations(page), 'account screen').toEqual([]);
    await page.setViewportSize(phone);
    expect(await violations(page), 'account screen, phone').toEqual([]);
    await expect(dialog).toBeInViewport();
    await screenshot(page, `a11y-account-phone-${colorScheme}`);

    // Signed out: the sign-in form, with the server's refusal.
    await dialog.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Have an account? Sign in' }).click();
    await page.getByLabel('Account name').fill('root');
    await page.getByLabel('Password', { exact: true }).fill('wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText('The name or the password is wrong.');
    expect(await violations(page), 'sign-in view with an error').toEqual([]);
    await screenshot(page, `a11y-signin-account-phone-${colorScheme}`);
  });
}
