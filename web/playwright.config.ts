import { defineConfig, devices } from '@playwright/test';

// End-to-end tests: a real parley binary built from this tree (see
// e2e/global-setup.ts), driven through Debian's Chromium. No browser is ever
// downloaded: set PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 for npm installs.
const chromium = process.env.PARLEY_E2E_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  // Playwright empties outputDir on every run; screenshots go beside it,
  // in test-results/screenshots, and survive.
  outputDir: 'test-results/artifacts',
  globalSetup: './e2e/global-setup.ts',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  // Each test starts its own server; two cores are enough for one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    ...devices['Desktop Chrome'],
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
