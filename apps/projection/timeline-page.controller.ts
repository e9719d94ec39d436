import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RouteAccess } from '@throughline/platform';
import { BuiltPage } from './built-page';

/** The practitioners' timeline page: a static file that calls the query API from the browser. */
@ApiExcludeController()
@Controller()
export class TimelinePageController {
  private readonly shell = new BuiltPage('timeline');

  @Get()
  @RouteAccess({ public: true }) // the shell only: every call it makes for data is guarded
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.shell.serve(reply);
  }
}
