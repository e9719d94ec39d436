import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';

/**
 * A real headless Chromium for page tests, driven by playwright-core. The browser is Debian's
 * `chromium` (playwright's own browser downloads are unreachable here): CHROMIUM_PATH, else the
 * first of the usual paths that exists.
 */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const found = [env.CHROMIUM_PATH, ...CANDIDATES].find((path) => path && existsSync(path));
  if (!found)
    throw new Error(
      'no Chromium for the page tests: `apt-get install chromium` (as root), or set CHROMIUM_PATH',
    );
  return found;
}

export async function launchChromium(): Promise<Browser> {
  // Loaded here, not with @throughline/testing: only page tests pay for it.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root (CI, these machines) cannot use Chromium's sandbox; the pages are our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
  /** Where: the CSS selectors of the first few offending elements. */
  readonly targets: readonly string[];
}

/**
 * axe-core's accessibility check of the page as it is now (WCAG 2.0, 2.1 and 2.2 A and AA rules). Run through
 * the DevTools protocol, so the page's own CSP and Trusted Types stay as they are.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  // A string, run in the page: this file is compiled without the DOM's types.
  return page.evaluate<AxeViolation[]>(
    `axe
      .run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] },
      })
      .then((result) =>
        result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.length,
          targets: v.nodes.slice(0, 5).map((node) => node.target.join(' ')),
        })),
      )`,
  );
}

/** A TCP port free now on 127.0.0.1 (for a server whose address must be known before it starts). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
