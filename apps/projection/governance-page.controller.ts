import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { projectRoot, RouteAccess } from '@throughline/platform';
import { timelinePageCsp } from './timeline-page.controller';

/** Built by scripts/build-page.mjs from page/governance.html and its TypeScript, beside the timeline page. */
export const GOVERNANCE_PAGE_FILE = join(
  projectRoot(),
  'dist',
  'apps',
  'projection',
  'page',
  'governance.html',
);

const NONCE_PLACEHOLDER = /__CSP_NONCE__/g;

function readBuiltPage(): string {
  if (!existsSync(GOVERNANCE_PAGE_FILE)) {
    throw new Error(`the governance page is not built (${GOVERNANCE_PAGE_FILE}): run \`npm run build:page\``);
  }
  return readFileSync(GOVERNANCE_PAGE_FILE, 'utf8');
}

/**
 * The information-governance officer's page: flows per agreement, the access log, break-glass
 * grants and policy versions, with CSV downloads. The shell is public and holds no data; every
 * call it makes is to the guarded API (the page's session, x-purpose information-governance),
 * under the same CSP nonce and Trusted Types as the timeline page.
 */
@ApiExcludeController()
@Controller()
export class GovernancePageController {
  // Read once at start-up: a missing page fails the app at boot, not an officer later.
  private readonly template = readBuiltPage();

  @Get('governance')
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
