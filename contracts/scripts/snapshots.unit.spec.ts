import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  backwardIncompatibilities,
  CONTRACT_VERSIONS,
  jsonSchemaOf,
  schemaFileOf,
  type JsonSchema,
} from '@throughline/contracts';
import { listSnapshots, readJson, snapshotsDir } from './files';

/**
 * The released contracts (contracts/snapshots/) against the current ones, with Schema
 * Registry's BACKWARD rule: the current schema must read every event the released one
 * accepted. A failure names the event type, version, field and rule. To release a new
 * version: `npm run contracts:accept` (see contracts/README.md).
 */
describe('released contract snapshots', () => {
  it.each(CONTRACT_VERSIONS.map((entry) => [`${entry.type} v${entry.version}`, entry] as const))(
    '%s is released and still reads what its snapshot accepted',
    (name, entry) => {
      const file = join(snapshotsDir(), schemaFileOf(entry.type, entry.version));
      if (!existsSync(file)) {
        throw new Error(
          `${name} has no snapshot: release it with \`npm run contracts:accept\` (writes ${file})`,
        );
      }
      const broken = backwardIncompatibilities(readJson(file) as JsonSchema, jsonSchemaOf(entry)).map(
        (issue) => `${name}: ${issue.path || '(root)'} ${issue.rule}: ${issue.message}`,
      );
      expect(broken).toEqual([]);
    },
  );

  it('keeps accepting every released version (a released version is never withdrawn)', () => {
    const current = new Set(CONTRACT_VERSIONS.map((entry) => `${entry.type} v${entry.version}`));
    const withdrawn = listSnapshots()
      .map((snapshot) => `${snapshot.type} v${snapshot.version}`)
      .filter((name) => !current.has(name));
    expect(withdrawn).toEqual([]);
    expect(listSnapshots().length).toBeGreaterThanOrEqual(CONTRACT_VERSIONS.length);
  });

  it('catches a breaking change to a released version, naming the type and the field', () => {
    const entry = CONTRACT_VERSIONS.find(
      (e) => e.type === 'education.attendance.summarised' && e.version === 1,
    );
    if (!entry) throw new Error('no attendance v1');
    interface EventSchema {
      properties: { data: { properties: Record<string, Record<string, unknown>>; required: string[] } };
    }
    const released = readJson(join(snapshotsDir(), schemaFileOf(entry.type, entry.version))) as EventSchema;
    const edited = structuredClone(released);
    edited.properties.data.properties.term.enum = ['autumn', 'spring'];
    edited.properties.data.required.push('sessionsAttended');
    edited.properties.data.properties.sessionsAttended = { type: 'integer' };
    expect(
      backwardIncompatibilities(released as unknown as JsonSchema, edited as unknown as JsonSchema).map(
        ({ path, rule }) => `${path} ${rule}`,
      ),
    ).toEqual(['data.sessionsAttended required-field-added', 'data.term enum-value-removed']);
  });
});
