import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { toContractIssues } from '@throughline/contracts';
import { ValidationError } from '@throughline/platform';

/**
 * Parses a request body, query or parameter with its zod schema at the edge: the handler gets
 * the parsed value, and a broken rule is a 400 (ValidationError) naming each field and rule.
 * `prefix` places the paths (`query.status`); body paths stand alone (`identifier.value`).
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    readonly schema: S,
    private readonly what: string,
    private readonly prefix = '',
  ) {}

  transform(input: unknown): z.output<S> {
    const parsed = this.schema.safeParse(input ?? {});
    if (parsed.success) return parsed.data;
    const issues = toContractIssues(parsed.error.issues, input ?? {}).map((issue) => ({
      ...issue,
      path: this.prefix ? (issue.path ? `${this.prefix}.${issue.path}` : this.prefix) : issue.path,
    }));
    throw new ValidationError(
      `invalid ${this.what}: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`,
      issues,
    );
  }
}
