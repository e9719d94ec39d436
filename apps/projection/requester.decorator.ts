import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBadRequestResponse, ApiHeader, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { errorSchema, openApiSchemaOf } from '@throughline/platform';
import {
  ACCESS_HEADERS,
  ACCESS_HEADER_SCHEMA,
  accessContextOf,
  type AccessContext,
} from '@throughline/timeline';

/** Who is asking and why, as @Requester() gives it to a handler. */
export type Requester = AccessContext;

const headerSchema = (name: keyof typeof ACCESS_HEADER_SCHEMA.shape) =>
  openApiSchemaOf(ACCESS_HEADER_SCHEMA.shape[name], { io: 'input' });

/** The OpenAPI side of @Requester(): the headers it reads and what their absence answers. */
const documentation: MethodDecorator[] = [
  ApiHeader({
    name: ACCESS_HEADERS.userId,
    required: true,
    description: 'who is asking (recorded in the access log)',
    schema: headerSchema(ACCESS_HEADERS.userId),
  }),
  ApiHeader({
    name: ACCESS_HEADERS.role,
    required: false,
    description: 'their role, e.g. social worker',
    schema: headerSchema(ACCESS_HEADERS.role),
  }),
  ApiHeader({
    name: ACCESS_HEADERS.purpose,
    required: true,
    description: 'why: direct-care, safeguarding, analysis, …',
    schema: headerSchema(ACCESS_HEADERS.purpose),
  }),
  ApiUnauthorizedResponse({ description: `${ACCESS_HEADERS.userId} missing`, schema: errorSchema }),
  ApiBadRequestResponse({
    description: `${ACCESS_HEADERS.purpose} missing, or a header malformed`,
    schema: errorSchema,
  }),
];

/**
 * Who is asking and why, parsed once from the request (the one place that knows how; the
 * next step replaces the headers with a verified token). Every handler that reads or changes
 * a child's data takes it, and using it documents the headers in /docs (a handler's own 400
 * description is added to the generic one).
 */
export const Requester = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AccessContext =>
    accessContextOf(context.switchToHttp().getRequest<FastifyRequest>().headers),
  [
    (target, key) => {
      if (key === undefined) return;
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (descriptor) for (const document of documentation) document(target, key, descriptor);
    },
  ],
);
