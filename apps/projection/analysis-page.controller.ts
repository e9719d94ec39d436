import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { projectRoot, RouteAccess } from '@throughline/platform';
import { timelinePageCsp } from './timeline-page.controller';

/** Built by scripts/build-page.mjs from page/analysis.html and its TypeScript, beside the other pages. */
export const ANALYSIS_PAGE_FILE = join(projectRoot(), 'dist', 'apps', 'projection', 'page', 'analysis.html');

const NONCE_PLACEHOLDER = /__CSP_NONCE__/g;

function readBuiltPage(): string {
  if (!existsSync(ANALYSIS_PAGE_FILE)) {
    throw new Error(`the analysis page is not built (${ANALYSIS_PAGE_FILE}): run \`npm run build:page\``);
  }
  return readFileSync(ANALYSIS_PAGE_FILE, 'utf8');
}

/**
 * The analyst's page (issue 15): pick a measure and a cohort, see the disclosure-controlled answer
 * as a chart and a table, download it. The shell is public and holds no data; every call it makes
 * is to the guarded analysis API (the page's session, x-purpose analysis), under the same CSP
 * nonce and Trusted Types as the timeline page.
 */
@ApiExcludeController()
@Controller()
export class AnalysisPageController {
  // Read once at start-up: a missing page fails the app at boot, not an analyst later.
  private readonly template = readBuiltPage();

  @Get('analysis')
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
