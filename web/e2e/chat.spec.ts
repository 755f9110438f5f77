import { encodeEvents, type Entry } from '../src/protocol';
import { expect, messageTexts, phone, screenshot, seed, send, signIn, test } from './fixtures';

test('two people chat both ways', async ({ browser, server }) => {
  const ana = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await signIn(ana, 'ana');
  await signIn(bob, 'bob');

  await send(ana, 'Hi Bob! Is the build green?');
  await expect(bob.locator('.log li.msg', { hasText: 'Is the build green?' })).toBeVisible();
  await expect(ana.locator('.log li.msg', { hasText: 'Is the build green?' })).toHaveAttribute('data-status', 'sent');

  // Typing shows on the other side.
  await bob.getByLabel('Message #general').pressSequentially('It is', { delay: 30 });
  await expect(ana.getByText('bob is typing…')).toBeVisible();
  await bob.getByLabel('Message #general').press('Enter');
  await expect(ana.locator('.log li.msg', { hasText: 'It is' })).toBeVisible();
  await expect(ana.getByText('bob is typing…')).toBeHidden();

  // Both are online, both see the join lines.
  await expect(ana.locator('.people-list')).toContainText('bob');
  await expect(bob.locator('.people-list')).toContainText('ana');
  await expect(ana.locator('.log .activity', { hasText: 'bob joined' })).toBeVisible();

  await send(ana, 'Grouped with the one above. And a link: https://example.com/docs.');
  await expect(ana.getByRole('link', { name: 'https://example.com/docs' })).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(ana.getByRole('link', { name: 'https://example.com/docs' })).toHaveAttribute('target', '_blank');
  await send(bob, 'A long message that has to wrap. '.repeat(12).trim());
  await expect(ana.locator('.log li.msg')).toHaveCount(4);

  expect(await messageTexts(ana)).toEqual(await messageTexts(bob));
  await screenshot(ana, 'chat-desktop');
  await ana.setViewportSize(phone);
  await screenshot(ana, 'chat-phone');
  await ana.getByRole('button', { name: /Rooms/ }).click();
  await expect(ana.getByRole('heading', { name: 'Rooms' })).toBeVisible();
  await screenshot(ana, 'drawer-phone');
  await ana.keyboard.press('Escape');
  await ana.emulateMedia({ colorScheme: 'dark' });
  await screenshot(ana, 'chat-phone-dark');
  await ana.setViewportSize({ width: 1280, height: 800 });
  await screenshot(ana, 'chat-desktop-dark');
  await ana.emulateMedia({ colorScheme: 'light' });

  // Rooms: bob opens a new one; ana joins it; unread counts where not in view.
  await bob.getByLabel('Join or create a room').fill('random');
  await bob.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(bob.getByRole('heading', { level: 1, name: 'random', exact: true })).toBeVisible();
  await ana.getByLabel('Join or create a room').fill('random');
  await ana.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(ana.getByRole('heading', { level: 1, name: 'random', exact: true })).toBeVisible();
  await ana.getByRole('button', { name: /general/ }).first().click();
  await send(bob, 'over here');
  await expect(ana.getByTestId('unread')).toHaveText('1 unread');
  await ana.getByRole('button', { name: /random/ }).first().click();
  await expect(ana.getByTestId('unread')).toHaveCount(0);
  await expect(ana.locator('.log li.msg', { hasText: 'over here' })).toBeVisible();

  // Closing bob's tab tells ana, once the grace period (2 s here) is over.
  await ana.getByRole('button', { name: /general/ }).first().click();
  await bob.context().close();
  await expect(ana.locator('.people-list')).not.toContainText('bob');
  await expect(ana.locator('.log .activity', { hasText: 'bob left' })).toBeVisible();
  void server;
});

test('history loads at once and older pages load on scroll without the view jumping', async ({ page, server }) => {
  const texts = Array.from({ length: 110 }, (_, i) => `history message ${String(i + 1).padStart(3, '0')}`);
  await seed(server.url, 'seeder', 'general', texts);
  await signIn(page, 'reader');

  const log = page.locator('.log li.msg');
  await expect(page.locator('.log li.msg').last()).toContainText('history message 110');
  // The newest page: 50 entries, the seeder's join among the first ones not shown yet.
  const firstCount = await log.count();
  expect(firstCount).toBeGreaterThanOrEqual(49);
  expect(firstCount).toBeLessThan(110);
  await screenshot(page, 'history-desktop');

  const scroller = page.locator('.messages');
  for (let round = 0; round < 5 && !(await page.getByText('This is the beginning of #general.').isVisible()); round++) {
    const topText = (await log.first().textContent()) ?? '';
    const anchor = page.locator('.log li.msg', { hasText: topText.match(/history message \d+/)![0] });
    const before = await log.count();
    await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect.poll(() => log.count()).toBeGreaterThan(before);
    // The message that was at the top is still where the eye left it, not
    // thrown to the bottom or the top of the view.
    const box = await anchor.boundingBox();
    const view = await scroller.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThan(view!.y - 5);
    expect(box!.y).toBeLessThan(view!.y + 200);
    expect(await scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  }
  await expect(page.getByText('This is the beginning of #general.')).toBeVisible();
  expect(await messageTexts(page)).toEqual(texts);
});

test('a view moved up stays up when something arrives before the scroll is reported', async ({ page, server }) => {
  // The browser reports a scroll with the next frame; an event the server
  // sends can land in between. A real server cannot be timed to hit that
  // gap, so the test hands the page's own socket an event, as the server
  // would send it, right after moving the view.
  await page.addInitScript(() => {
    const g = globalThis as unknown as { WebSocket: new (url: string) => object; parleySockets: object[] };
    const Native = g.WebSocket;
    g.parleySockets = [];
    g.WebSocket = class extends Native {
      constructor(url: string) {
        super(url);
        g.parleySockets.push(this);
      }
    };
  });
  // One page of history, more than the view holds: no older page loads
  // when the view nears its top.
  await seed(server.url, 'seeder', 'general', Array.from({ length: 45 }, (_, i) => `message ${i + 1}`));
  await signIn(page, 'reader');
  await expect(page.locator('.log li.msg').last()).toContainText('message 45');
  await expect(page.getByText('This is the beginning of #general.')).toBeAttached();
  const scroller = page.locator('.messages');
  await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  expect(await scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(200);

  const online = encodeEvents([{ type: 'online', room: 'general', nick: 'zoe' }]);
  await scroller.evaluate((el, data) => {
    const g = globalThis as unknown as {
      parleySockets: EventTarget[];
      MessageEvent: new (type: string, init: { data: string }) => Event;
    };
    el.scrollTo({ top: 100 });
    g.parleySockets.at(-1)!.dispatchEvent(new g.MessageEvent('message', { data }));
  }, online);
  // Once the event is shown, the view is where the person put it.
  await expect(page.locator('.people-list')).toContainText('zoe');
  expect(await scroller.evaluate((el) => el.scrollTop)).toBe(100);
});

test('a reload keeps the nickname and the conversation', async ({ page }) => {
  await signIn(page, 'carol');
  await send(page, 'before the reload');
  await expect(page.locator('.log li.msg', { hasText: 'before the reload' })).toHaveAttribute('data-status', 'sent');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'general', exact: true })).toBeVisible();
  await expect(page.locator('.whoami')).toContainText('carol');
  await expect(page.locator('.log li.msg', { hasText: 'before the reload' })).toBeVisible();
  // Shift+Enter starts a new line; Enter sends.
  const box = page.getByLabel('Message #general');
  await box.pressSequentially('after the reload');
  await box.press('Shift+Enter');
  await box.pressSequentially('on two lines');
  await box.press('Enter');
  await expect(box).toHaveValue('');
  await expect(page.locator('.log li.msg', { hasText: 'after the reload' })).toHaveAttribute('data-status', 'sent');
  expect(await messageTexts(page)).toEqual(['before the reload', 'after the reload\non two lines']);
  // Same person: no second join line, no "nickname taken".
  await expect(page.locator('.log .activity', { hasText: 'carol joined' })).toHaveCount(1);
});

test('a server restart while a message waits in the outbox loses nothing and repeats nothing', async ({ browser, server }) => {
  const ana = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await signIn(ana, 'ana');
  await signIn(bob, 'bob');
  await send(ana, 'one');
  await send(bob, 'two');
  await expect(ana.locator('.log li.msg', { hasText: 'two' })).toBeVisible();
  await expect(bob.locator('.log li.msg', { hasText: 'one' })).toBeVisible();

  await server.stop();
  await expect(ana.getByText('Reconnecting…')).toBeVisible();
  await expect(bob.getByText('Reconnecting…')).toBeVisible();
  await send(ana, 'three, written while the server was down');
  const pending = ana.locator('.log li.msg.pending', { hasText: 'three' });
  await expect(pending).toHaveAttribute('data-status', 'sending');
  await expect(pending).toContainText('Waiting for the connection…');
  await screenshot(ana, 'reconnecting-desktop');
  await send(bob, 'four, also written offline');

  await server.start();
  await expect(ana.getByText('Reconnecting…')).toBeHidden({ timeout: 30_000 });
  await expect(bob.getByText('Reconnecting…')).toBeHidden({ timeout: 30_000 });
  await send(ana, 'five');
  const want = ['one', 'two', 'three, written while the server was down', 'four, also written offline', 'five'];
  for (const page of [ana, bob]) {
    await expect(page.locator('.log li.msg.pending')).toHaveCount(0);
    await expect.poll(() => messageTexts(page)).toEqual(expect.arrayContaining(want));
    const texts = await messageTexts(page);
    expect(texts.filter((t) => want.includes(t))).toHaveLength(want.length);
    expect(texts.indexOf('one')).toBeLessThan(texts.indexOf('two'));
    expect(texts.indexOf('two')).toBeLessThan(texts.indexOf('five'));
  }
  // Both see the same log, in the same order, each message once.
  expect(await messageTexts(ana)).toEqual(await messageTexts(bob));
  const seqs = await ana.locator('.log li[data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  // And the store holds each message exactly once.
  const res = await fetch(`${server.url}/api/rooms/general/messages?limit=200`);
  const body = (await res.json()) as { entries: Entry[] };
  const stored = body.entries.filter((e) => e.type === 'message').map((e) => e.text);
  expect(stored.slice().sort()).toEqual(want.slice().sort());
});

test('a message the server does not confirm shows a retry state, and a retry stores it once', async ({ page, server }) => {
  await signIn(page, 'dave');
  await send(page, 'confirmed');
  await expect(page.locator('.log li.msg', { hasText: 'confirmed' })).toHaveAttribute('data-status', 'sent');

  server.pause(); // the socket stays open, but nothing answers
  await send(page, 'are you there?');
  const item = page.locator('.log li.msg', { hasText: 'are you there?' });
  await expect(item).toHaveAttribute('data-status', 'sending');
  await expect(item).toHaveAttribute('data-status', 'failed', { timeout: 20_000 });
  await expect(item.getByText(/Not sent/)).toBeVisible();
  await screenshot(page, 'retry-desktop');
  await item.getByRole('button', { name: 'Retry' }).click();
  await expect(item).toHaveAttribute('data-status', 'sending');

  server.resume(); // both sends arrive, with one client id: one message
  await expect(page.locator('.log li.msg.pending')).toHaveCount(0);
  await expect(page.locator('.log li.msg', { hasText: 'are you there?' })).toHaveAttribute('data-status', 'sent');
  expect(await messageTexts(page)).toEqual(['confirmed', 'are you there?']);
  const res = await fetch(`${server.url}/api/rooms/general/messages`);
  const body = (await res.json()) as { entries: Entry[] };
  expect(body.entries.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(['confirmed', 'are you there?']);
});

test('a message with HTML in it is shown as text', async ({ page }) => {
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await signIn(page, 'mallory');
  const evil = '<img src=x onerror=alert(1)>';
  await send(page, evil);
  const item = page.locator('.log li.msg', { hasText: evil });
  await expect(item).toHaveAttribute('data-status', 'sent');
  await expect(item.locator('.text')).toHaveText(evil);
  await expect(page.locator('.log img')).toHaveCount(0);
  await send(page, '<script>alert(2)</script> javascript:alert(3)');
  await expect(page.locator('.log li.msg', { hasText: '<script>alert(2)</script>' })).toBeVisible();
  await expect(page.locator('.log a')).toHaveCount(0);
  await page.reload(); // and from history too
  await expect(page.locator('.log li.msg .text', { hasText: evil })).toHaveText(evil);
  await expect(page.locator('.log img')).toHaveCount(0);
  expect(dialogs).toBe(0);
});

test('a taken nickname shows the server error', async ({ browser, page }) => {
  await page.setViewportSize(phone);
  await page.goto('/');
  await screenshot(page, 'signin-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, 'signin-desktop');
  // Spaces around a name are trimmed; two inside are refused, as typed.
  await page.getByLabel('Nickname').fill(' bad  name ');
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'must not contain two spaces in a row' })).toBeVisible();
  await expect(page.getByLabel('Nickname')).toHaveValue('bad  name');

  const other = await (await browser.newContext()).newPage();
  await signIn(other, 'Ana');
  await page.getByLabel('Nickname').fill('ana');
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await expect(page.getByText('The nickname "ana" is taken. Choose another.')).toBeVisible();
  await expect(page.getByLabel('Nickname')).toHaveAttribute('aria-invalid', 'true');
  await screenshot(page, 'signin-taken-desktop');
  await page.getByLabel('Nickname').fill('  ana 2\t');
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await expect(page.locator('.whoami strong')).toHaveText('ana 2');
});

test('signing out returns to the sign-in screen, and a reload does not sign back in', async ({ page }) => {
  await signIn(page, 'erin');
  await send(page, 'leaving soon');
  await expect(page.locator('.log li.msg', { hasText: 'leaving soon' })).toHaveAttribute('data-status', 'sent');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Enter chat' })).toBeVisible();
  await expect(page.getByLabel('Nickname')).toHaveValue('erin');
  await expect(page.locator('.signin .error')).toHaveText('');
  await page.reload();
  await expect(page.getByRole('button', { name: 'Enter chat' })).toBeVisible();
  await expect(page.locator('.whoami')).toHaveCount(0);
});
