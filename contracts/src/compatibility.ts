import type { JsonSchema } from './json-schema';

/**
 * Schema Registry's BACKWARD rule on JSON Schemas: a reader using the NEW schema must accept
 * every document the OLD schema accepted. Checked keyword by keyword; where inclusion cannot
 * be decided (a changed regex pattern or format) the change counts as breaking.
 */
export interface Incompatibility {
  /** The field, as a dot path (`data.sessionsAttended`); empty for the document itself. */
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

type Schema = { readonly [keyword: string]: unknown };

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asSchema(value: unknown): JsonSchema {
  return value === undefined ? true : (value as JsonSchema);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function typesOf(schema: Schema): string[] | undefined {
  if (schema.type === undefined) return undefined;
  return Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
}

/** Values the schema limits itself to, if it is a const or an enum. */
function valuesOf(schema: Schema): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function branchesOf(schema: Schema): JsonSchema[] | undefined {
  const branches = schema.anyOf ?? schema.oneOf;
  return Array.isArray(branches) ? (branches as JsonSchema[]) : undefined;
}

/** Every way in which `next` rejects a document `previous` accepts (BACKWARD). */
export function backwardIncompatibilities(
  previous: JsonSchema,
  next: JsonSchema,
  path = '',
): Incompatibility[] {
  const issues: Incompatibility[] = [];
  const broken = (rule: string, message: string, at = path) => issues.push({ path: at, rule, message });

  if (
    next === true ||
    (isSchema(next) && Object.keys(next).every((k) => k.startsWith('$') || k === 'title'))
  ) {
    return issues;
  }
  if (next === false) {
    if (previous !== false) broken('schema-closed', 'the new schema accepts nothing');
    return issues;
  }
  if (previous === false) return issues;
  const old: Schema = previous === true ? {} : previous;
  const now = next as Schema;

  // Unions: every old alternative must be readable by some new alternative.
  const nowBranches = branchesOf(now);
  const oldBranches = branchesOf(old);
  if (nowBranches || oldBranches) {
    for (const branch of oldBranches ?? [old]) {
      const candidates = nowBranches ?? [now];
      const results = candidates.map((candidate) => backwardIncompatibilities(branch, candidate, path));
      if (!results.some((result) => result.length === 0)) {
        issues.push(...results.reduce((a, b) => (b.length < a.length ? b : a)));
      }
    }
    return issues;
  }

  const oldTypes = typesOf(old);
  const nowTypes = typesOf(now);
  if (nowTypes) {
    const accepted = (type: string) =>
      nowTypes.includes(type) || (type === 'integer' && nowTypes.includes('number'));
    const oldValues = valuesOf(old);
    const lost = oldTypes
      ? oldTypes.filter((type) => !accepted(type))
      : oldValues
        ? oldValues.filter((value) => !accepted(jsonTypeOf(value))).map(jsonTypeOf)
        : ['any'];
    if (lost.length) broken('type-narrowed', `type ${lost.join(', ')} is no longer accepted`);
  }

  const nowValues = valuesOf(now);
  if (nowValues) {
    const oldValues = valuesOf(old);
    if (!oldValues)
      broken('values-restricted', `values are newly restricted to ${JSON.stringify(nowValues)}`);
    else {
      const removed = oldValues.filter((value) => !nowValues.some((candidate) => same(candidate, value)));
      if (removed.length) {
        broken(
          'enum-value-removed',
          `value(s) ${removed.map((v) => JSON.stringify(v)).join(', ')} no longer accepted`,
        );
      }
    }
  }

  for (const keyword of LOWER_BOUNDS) {
    const bound = now[keyword];
    if (typeof bound !== 'number') continue;
    const before = old[keyword];
    if (typeof before !== 'number' || bound > before) {
      broken(`${keyword}-narrowed`, `${keyword} raised to ${bound} (was ${before ?? 'none'})`);
    }
  }
  for (const keyword of UPPER_BOUNDS) {
    const bound = now[keyword];
    if (typeof bound !== 'number') continue;
    const before = old[keyword];
    if (typeof before !== 'number' || bound < before) {
      broken(`${keyword}-narrowed`, `${keyword} lowered to ${bound} (was ${before ?? 'none'})`);
    }
  }
  for (const keyword of ['pattern', 'format', 'multipleOf'] as const) {
    if (now[keyword] !== undefined && !same(now[keyword], old[keyword])) {
      broken(
        `${keyword}-changed`,
        `${keyword} is now ${JSON.stringify(now[keyword])} (was ${JSON.stringify(old[keyword] ?? null)})`,
      );
    }
  }

  // Objects.
  const oldProps = (isSchema(old.properties) ? old.properties : {}) as Record<string, JsonSchema>;
  const nowProps = (isSchema(now.properties) ? now.properties : {}) as Record<string, JsonSchema>;
  const oldRequired = new Set(Array.isArray(old.required) ? (old.required as string[]) : []);
  for (const key of Array.isArray(now.required) ? (now.required as string[]) : []) {
    if (!oldRequired.has(key)) {
      broken(
        'required-field-added',
        `"${key}" is required but was ${key in oldProps ? 'optional' : 'not in the old schema'}; make it optional with a default, or publish a new version with an upcaster`,
        join(path, key),
      );
    }
  }
  const nowAdditional = asSchema(now.additionalProperties);
  const oldAdditional = asSchema(old.additionalProperties);
  for (const [key, oldProp] of Object.entries(oldProps)) {
    if (key in nowProps) issues.push(...backwardIncompatibilities(oldProp, nowProps[key], join(path, key)));
    else if (nowAdditional === false) {
      broken('field-removed', `"${key}" was removed and unknown fields are refused`, join(path, key));
    } else issues.push(...backwardIncompatibilities(oldProp, nowAdditional, join(path, key)));
  }
  for (const [key, nowProp] of Object.entries(nowProps)) {
    if (!(key in oldProps) && oldAdditional !== false) {
      issues.push(...backwardIncompatibilities(oldAdditional, nowProp, join(path, key)));
    }
  }
  if (
    oldAdditional !== false &&
    nowAdditional === false &&
    (isSchema(old.properties) || old.type === 'object')
  ) {
    broken('additional-fields-refused', 'fields the old schema let through are now refused');
  } else if (oldAdditional !== false && nowAdditional !== true) {
    issues.push(...backwardIncompatibilities(oldAdditional, nowAdditional, join(path, '*')));
  }

  // Arrays.
  if (now.items !== undefined) {
    issues.push(...backwardIncompatibilities(asSchema(old.items), asSchema(now.items), join(path, '[]')));
  }
  return issues;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
