import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RouteAccess } from '@throughline/platform';
import { BuiltPage } from './built-page';

/**
 * The information-governance officer's page: flows per agreement, the access log, break-glass
 * grants and policy versions, with CSV downloads. Every call it makes is to the guarded API (the
 * page's session, x-purpose information-governance), under the same CSP nonce and Trusted Types
 * as the timeline page.
 */
@ApiExcludeController()
@Controller()
export class GovernancePageController {
  private readonly shell = new BuiltPage('governance');

  @Get('governance')
  @RouteAccess({ public: true }) // the shell only: every call it makes for data is guarded
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.shell.serve(reply);
  }
}
