import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { projectRoot } from '@throughline/platform';

/** Read from the source tree, as migrations are, so the compiled app serves the same file. */
export const TIMELINE_PAGE_FILE = join(projectRoot(), 'apps', 'projection', 'page', 'timeline.html');

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

/** The practitioners' timeline page: a static file that calls the query API from the browser. */
@ApiExcludeController()
@Controller()
export class TimelinePageController {
  // Read once at start-up: a missing page fails the app at boot, not a practitioner later.
  private readonly template = readFileSync(TIMELINE_PAGE_FILE, 'utf8');

  @Get()
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
