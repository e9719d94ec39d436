import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import { projectRoot } from '@throughline/platform';

/**
 * Where scripts/build-page.mjs (`npm run build:page`, run by `npm run build`, `npm start` and
 * `npm test`) writes a page built from page/<name>.html and its TypeScript; the source and the
 * compiled app serve the same file.
 */
export const builtPageFile = (name: string): string =>
  join(projectRoot(), 'dist', 'apps', 'projection', 'page', `${name}.html`);

const NONCE_PLACEHOLDER = /__CSP_NONCE__/g;

/**
 * A page's inline <style> and <script> run only with this request's nonce: unlike
 * 'unsafe-inline', markup that ever slipped into the page could not run script. Trusted Types
 * make any innerHTML-style sink throw, so data can only be written as text. Fetches go to
 * this origin alone; the page cannot be framed.
 */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
}

/**
 * One of the pages' shells: read once when its controller is made, so a page that is not built
 * fails the app at boot rather than a reader later. The shell holds no data; every call it
 * makes for data is to the guarded API.
 */
export class BuiltPage {
  private readonly template: string;

  constructor(name: string) {
    const file = builtPageFile(name);
    if (!existsSync(file))
      throw new Error(`the ${name} page is not built (${file}): run \`npm run build:page\``);
    this.template = readFileSync(file, 'utf8');
  }

  /** The page with this request's nonce, under its CSP. */
  serve(reply: FastifyReply): string {
    const nonce = randomBytes(16).toString('base64');
    void reply.headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageCsp(nonce),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    return this.template.replace(NONCE_PLACEHOLDER, nonce);
  }
}
