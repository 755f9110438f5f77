import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// globalSetup builds the UI (so the binary embeds the code under test) and
// then the parley binary, once per run. Tests start servers from it; see
// fixtures.ts. PARLEY_E2E_BIN skips both builds and uses that binary.
export default function globalSetup(): (() => void) | undefined {
  if (process.env.PARLEY_E2E_BIN) return undefined;
  const web = path.resolve(import.meta.dirname, '..');
  const root = path.resolve(web, '..');
  if (!process.env.PARLEY_E2E_SKIP_WEB_BUILD) {
    execFileSync('npm', ['run', 'build'], { cwd: web, stdio: 'inherit' });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-e2e-'));
  const bin = path.join(dir, 'parley');
  execFileSync('go', ['build', '-o', bin, './cmd/parley'], { cwd: root, stdio: 'inherit' });
  // Workers start after global setup and inherit its environment.
  process.env.PARLEY_E2E_BIN = bin;
  // The returned function is the global teardown.
  return () => rmSync(dir, { recursive: true, force: true });
}
