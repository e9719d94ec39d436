import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { validateXML } from 'xmllint-wasm';
import { exportCommand, importCommand } from '@throughline/returns';
import { cinCensusChunks } from '@throughline/synthetic';
import { waitFor, returnsSpecsDirectory } from '@throughline/testing';
import { getJson, postJson, startSystem, type RunningSystem } from './harness';

/**
 * A local authority brings its history in and sends its return out, on the running system:
 * `npm run import` (the command, in process) publishes a synthetic CIN census through the
 * social-care service with the demo case system's token; the recorder stores it, the projection
 * shows each child's imported entries with where they came from and what the return did not
 * hold; importing the file again records nothing new; `npm run export` writes the same year's
 * census back, valid against the DfE schema in ../shared/domain/specs, with the same children.
 */

const SPECS = returnsSpecsDirectory();
const CHILDREN = 25;

/** A writable that keeps what it is given, for a command's stdout. */
function collector(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}

describe('statutory returns in and out, end to end', () => {
  let system: RunningSystem;
  let directory: string;
  let censusPath: string;
  let census: string;

  beforeAll(async () => {
    system = await startSystem();
    directory = await mkdtemp(join(tmpdir(), 'throughline-returns-e2e-'));
    censusPath = join(directory, 'cin-census-2024-25.xml');
    census = [
      ...cinCensusChunks({ children: CHILDREN, laCode: '991', collectionYear: '2024-25', seed: 'e2e' }),
    ].join('');
    await writeFile(censusPath, census);
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  async function importCensus(): Promise<{ code: number; summary: Record<string, unknown> }> {
    const token = (await system.headers('demo-case-system')).authorization.slice('Bearer '.length);
    const stdout = collector();
    const code = await importCommand(['cin-census', censusPath, '--url', system.urls.socialCare, '--json'], {
      env: { ...process.env, THROUGHLINE_TOKEN: token },
      stdout,
      stderr: collector(),
    });
    return { code, summary: JSON.parse(stdout.text()) as Record<string, unknown> };
  }

  /** Imported events in the store (the only ones with a provenance). */
  async function storedEvents(): Promise<number> {
    const { rows } = await system.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM events WHERE data::jsonb ? 'provenance'`,
    );
    return Number(rows[0].n);
  }

  it('imports a CIN census through the social-care service; the practitioner sees where each entry came from', async () => {
    const { code, summary } = await importCensus();
    expect(code).toBe(0);
    expect(summary).toMatchObject({ state: 'completed', children: CHILDREN, eventsRejected: 0 });
    const published = summary.eventsPublished as number;
    expect(published).toBeGreaterThan(CHILDREN);
    await waitFor(async () => (await storedEvents()) === published, {
      message: 'the imported events to be recorded',
      timeoutMs: 90_000,
      intervalMs: 500,
    });

    // A child of the file, by the record id the importer gives it (LA code and LA child id).
    const laChildId = /<LAchildID>([^<]+)<\/LAchildID>/.exec(census)![1];
    const headers = await system.headers('demo-social-worker', 'safeguarding');
    let childKey = '';
    await waitFor(
      async () => {
        const found = await postJson<{ childKey: string }>(
          `${system.urls.projection}/v1/children/lookup`,
          { identifier: { type: 'record', agency: 'social-care', value: `la991-${laChildId}` } },
          headers,
        );
        if (found.status !== 200) return false;
        childKey = found.body.childKey;
        return true;
      },
      { message: 'the imported child to be projected', timeoutMs: 60_000, intervalMs: 1500 },
    );
    const timeline = await getJson<{
      entries: {
        type: string;
        imported?: { format: string; collectionYear?: string; location: string };
        notInReturn?: string[];
      }[];
    }>(`${system.urls.projection}/v1/children/${childKey}/timeline`, headers);
    expect(timeline.status).toBe(200);
    const imported = timeline.body.entries.filter((entry) => entry.imported);
    expect(imported.length).toBeGreaterThan(0);
    for (const entry of imported) {
      expect(entry.imported).toMatchObject({ format: 'cin-census', collectionYear: '2024-25' });
      expect(entry.imported!.location).toMatch(/^Message\/Children\/Child\[\d+\]/);
    }
    await system.audit.skip();
  });

  it('importing the same file again records nothing new', async () => {
    const before = await storedEvents();
    const { code, summary } = await importCensus();
    expect(code).toBe(0);
    expect(summary.state).toBe('completed');
    // Give the recorder time to see the second copy; the store keeps one of each id.
    await new Promise((done) => setTimeout(done, 5000));
    expect(await storedEvents()).toBe(before);
  });

  it('takes the same file as an upload on the running social-care service, and adds nothing new', async () => {
    const before = await storedEvents();
    const form = new FormData();
    form.append('file', new Blob([census], { type: 'application/xml' }), 'cin-census-2024-25.xml');
    const headers = await system.headers('demo-case-system');
    const started = await fetch(`${system.urls.socialCare}/v1/imports?format=cin-census`, {
      method: 'POST',
      headers,
      body: form,
    });
    expect(started.status).toBe(202);
    const { status } = (await started.json()) as { status: string };
    let summary: { state: string; children: number; eventsRejected: number } = {
      state: 'running',
      children: 0,
      eventsRejected: 0,
    };
    await waitFor(
      async () => {
        const response = await fetch(`${system.urls.socialCare}${status}`, { headers });
        summary = (await response.json()) as typeof summary;
        return summary.state !== 'running';
      },
      { message: 'the upload to be imported', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(summary).toMatchObject({ state: 'completed', children: CHILDREN, eventsRejected: 0 });
    await new Promise((done) => setTimeout(done, 3000));
    expect(await storedEvents()).toBe(before);
  });

  it('exports the same year, valid against the DfE schema, with the same children; the export is recorded', async () => {
    const out = join(directory, 'exported.xml');
    const stderr = collector();
    const code = await exportCommand(['cin-census', '--la', '991', '--year', '2025', '--out', out], {
      env: { ...process.env, DATABASE_URL: system.config.DATABASE_URL },
      stdout: collector(),
      stderr,
    });
    expect(code).toBe(0);
    const exported = await readFile(out, 'utf8');
    const schema = await readFile(join(SPECS, 'CIN_schema_2024.xsd'), 'utf8');
    const validation = await validateXML({
      xml: [{ fileName: 'exported.xml', contents: exported }],
      schema: [{ fileName: 'CIN_schema_2024.xsd', contents: schema }],
    });
    expect(validation.errors).toEqual([]);
    const ids = (xml: string) =>
      [...xml.matchAll(/<LAchildID>([^<]+)<\/LAchildID>/g)].map((m) => m[1]).sort();
    expect(ids(exported)).toEqual(ids(census));
    const { rows } = await system.pool.query<{ action: string; returned_entries: number }>(
      `SELECT action, returned_entries FROM access_log WHERE action = 'statutory-return-export' ORDER BY seq`,
    );
    expect(rows.map((row) => row.returned_entries)).toEqual([0, CHILDREN]);
  });
});
