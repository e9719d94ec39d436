import Ajv from 'ajv';
import { z } from 'zod';
import { ValidationError } from './errors';
import { errorSchema, openApiSchemaOf } from './openapi';

const ajv = new Ajv({ strict: false });

describe('openApiSchemaOf', () => {
  const trimmed = z.object({
    name: z.string().trim().min(1).meta({ example: 'Ada' }),
    age: z.number().int().optional(),
  });

  it('gives an OpenAPI 3.0 schema without $schema, with the title and description asked for', () => {
    const schema = openApiSchemaOf(trimmed, { title: 'Person', description: 'one person' });
    expect(schema).toMatchObject({
      title: 'Person',
      description: 'one person',
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1, example: 'Ada' }, age: { type: 'integer' } },
    });
    expect(schema).not.toHaveProperty('$schema');
  });

  it('documents what a client sends (input) for a body parsed through a transform', () => {
    const normalised = z.object({ value: z.string().transform((value) => value.replace(/\s/g, '')) });
    expect(openApiSchemaOf(normalised, { io: 'input' })).toMatchObject({
      properties: { value: { type: 'string' } },
    });
    expect(() => openApiSchemaOf(normalised)).toThrow();
  });
});

describe('errorSchema', () => {
  it('describes the body the exception filter sends for a ValidationError', () => {
    const error = new ValidationError('invalid', [
      { path: 'headers.x-purpose', rule: 'required', message: 'say why' },
    ]);
    const body = { error: error.code, message: error.message, issues: error.issues };
    expect(ajv.validate(errorSchema, body)).toBe(true);
    expect(ajv.validate(errorSchema, { error: 'VALIDATION', message: 'x', issues: [{ path: 'a' }] })).toBe(
      false,
    );
  });
});
