import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import type { FieldIssue } from './errors';

/**
 * The HTTP contract has one source: zod schemas. Requests are parsed with them and /docs is
 * generated from them (zod's `z.toJSONSchema`, OpenAPI 3.0 target), so the two cannot drift.
 * Check digits and cross-field rules are zod code; they show only in descriptions.
 */

export interface OpenApiSchemaOptions {
  /** `input` for request bodies (what a client sends, before transforms); `output` for responses. */
  readonly io?: 'input' | 'output';
  readonly title?: string;
  readonly description?: string;
}

/** The OpenAPI 3.0 schema of a zod schema, inline (no $ref), for `@ApiBody` / `@ApiResponse`. */
export function openApiSchemaOf(schema: z.ZodType, options: OpenApiSchemaOptions = {}): SchemaObject {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: options.io ?? 'output',
  });
  return {
    ...(json as SchemaObject),
    ...(options.title ? { title: options.title } : {}),
    ...(options.description ? { description: options.description } : {}),
  };
}

export const fieldIssue = z
  .object({
    path: z.string().meta({
      description: 'dotted field path (headers.x-purpose, identifier.value)',
      example: 'subject.nhsNumber',
    }),
    rule: z.string().meta({ example: 'nhs-number-check-digit' }),
    message: z.string(),
  })
  .meta({ description: 'a rule that a field broke' }) satisfies z.ZodType<FieldIssue>;

/** The body of every error answer (ThroughlineExceptionFilter). */
export const errorBody = z.object({
  error: z.string().meta({
    description: 'the error code (VALIDATION, UNAUTHENTICATED, NOT_FOUND, UNAVAILABLE, INTERNAL, …)',
    example: 'VALIDATION',
  }),
  message: z.string(),
  issues: z.array(fieldIssue).optional().meta({ description: 'with VALIDATION: every rule broken' }),
});

export const fieldIssueSchema = openApiSchemaOf(fieldIssue);
export const errorSchema = openApiSchemaOf(errorBody);
