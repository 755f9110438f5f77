import { expect, send, signIn, test } from './fixtures';

test('creating a room makes no failing request and logs no error', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()}: ${r.request().method()} ${r.url()}`);
  });

  await signIn(page, 'ana');
  // Spaces around the name are not part of it.
  await page.getByLabel('Join or create a room').fill('  plans for May  ');
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'plans for May', exact: true })).toBeVisible();
  await expect(page.locator('.log .activity', { hasText: 'ana joined' })).toBeVisible();
  await expect(page.getByText('This is the beginning of #plans for May.')).toBeVisible();
  await send(page, 'first!');
  await expect(page.locator('.log li.msg', { hasText: 'first!' })).toHaveAttribute('data-status', 'sent');

  // A room that exists already shows its history, read after the join.
  await page.getByRole('button', { name: /general/ }).first().click();
  await send(page, 'in general');
  await expect(page.locator('.log li.msg', { hasText: 'in general' })).toHaveAttribute('data-status', 'sent');
  await page.getByRole('button', { name: 'Leave plans for May' }).click();
  await page.getByLabel('Join or create a room').fill('#plans for May');
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page.locator('.log li.msg', { hasText: 'first!' })).toBeVisible();

  expect(problems).toEqual([]);
});
