import { z } from 'zod';
import { CONTRACT_VERSIONS, type ContractVersion } from './versions';

/** A JSON Schema document (draft 2020-12) as plain JSON. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** The `$id` of a published contract version. */
export function schemaIdOf(type: string, version: number): string {
  return `urn:throughline:contract:${type}:v${version}`;
}

/** Where the schema of a version is published, relative to contracts/dist/ and to contracts/snapshots/. */
export function schemaFileOf(type: string, version: number): string {
  return `${type}/v${version}.json`;
}

/**
 * The JSON Schema of one contract version, generated from its zod schema with zod's own
 * `z.toJSONSchema`. It describes what a publisher sends (`io: 'input'`). It is the structural
 * part of the contract: check digits (NHS number, UPN) and cross-field rules (refinements)
 * are zod code and are not expressible in JSON Schema; readers that need them use the zod
 * contracts (see contracts/README.md).
 */
export function jsonSchemaOf(entry: ContractVersion): Record<string, unknown> {
  const generated = z.toJSONSchema(entry.schema, { target: 'draft-2020-12', io: 'input' });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  return {
    $schema,
    $id: schemaIdOf(entry.type, entry.version),
    title: `${entry.type} v${entry.version}`,
    ...rest,
  };
}

/** Every published contract version with its JSON Schema. */
export function publishedJsonSchemas(): { entry: ContractVersion; schema: Record<string, unknown> }[] {
  return CONTRACT_VERSIONS.map((entry) => ({ entry, schema: jsonSchemaOf(entry) }));
}
