import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RouteAccess } from '@throughline/platform';
import { BuiltPage } from './built-page';

/**
 * The analyst's page (issue 15): pick a measure and a cohort, see the disclosure-controlled answer
 * as a chart and a table, download it. Every call it makes is to the guarded analysis API (the
 * page's session, x-purpose analysis), under the same CSP nonce and Trusted Types as the
 * timeline page.
 */
@ApiExcludeController()
@Controller()
export class AnalysisPageController {
  private readonly shell = new BuiltPage('analysis');

  @Get('analysis')
  @RouteAccess({ public: true }) // the shell only: every call it makes for data is guarded
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.shell.serve(reply);
  }
}
