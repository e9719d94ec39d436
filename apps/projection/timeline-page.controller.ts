import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { projectRoot, RouteAccess } from '@throughline/platform';

/**
 * Built by scripts/build-page.mjs (`npm run build:page`, run by `npm run build`, `npm start` and
 * `npm test`) from page/timeline.html and its TypeScript; the source and compiled app serve the same file.
 */
export const TIMELINE_PAGE_FILE = join(projectRoot(), 'dist', 'apps', 'projection', 'page', 'timeline.html');

const NONCE_PLACEHOLDER = /__CSP_NONCE__/g;

/**
 * The page's inline <style> and <script> run only with this request's nonce: unlike
 * 'unsafe-inline', markup that ever slipped into the page could not run script. Trusted Types
 * make any innerHTML-style sink throw, so data can only be written as text. Fetches go to
 * this origin alone; the page cannot be framed.
 */
export function timelinePageCsp(nonce: string): string {
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

function readBuiltPage(): string {
  if (!existsSync(TIMELINE_PAGE_FILE)) {
    throw new Error(`the timeline page is not built (${TIMELINE_PAGE_FILE}): run \`npm run build:page\``);
  }
  return readFileSync(TIMELINE_PAGE_FILE, 'utf8');
}

/** The practitioners' timeline page: a static file that calls the query API from the browser. */
@ApiExcludeController()
@Controller()
export class TimelinePageController {
  // Read once at start-up: a missing page fails the app at boot, not a practitioner later.
  private readonly template = readBuiltPage();

  @Get()
  @RouteAccess({ public: true }) // the shell only: every call it makes for data is guarded
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    const nonce = randomBytes(16).toString('base64');
    void reply.headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': timelinePageCsp(nonce),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    return this.template.replace(NONCE_PLACEHOLDER, nonce);
  }
}
