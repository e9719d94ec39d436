import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { validateXML } from 'xmllint-wasm';
import type { AgencyEvent } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import { exportCinCensus } from './export';
import { returnsSpecsDirectory } from '@throughline/testing';

const SPECS = returnsSpecsDirectory();

/** Events as the store hands them out (the recorder keeps the whole event as data). */
const recorded = (events: readonly AgencyEvent[]): RecordedEvent[] =>
  events.map((event, index) => ({
    eventId: event.eventId,
    streamId: `${event.source.agency}-${event.subject.recordId}`,
    revision: 0n,
    position: BigInt(index + 1),
    type: event.type,
    data: event,
    metadata: {},
    recordedAt: new Date(),
  }));

async function exported(events: readonly AgencyEvent[], laCode: string, year: number) {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const written = await exportCinCensus(recorded(events), { laCode, year }, out);
  return { written, xml: chunks.join('') };
}

async function xsdErrors(xml: string): Promise<string[]> {
  const schema = await readFile(resolve(SPECS, 'CIN_schema_2024.xsd'), 'utf8');
  const result = await validateXML({
    xml: [{ fileName: 'census.xml', contents: xml }],
    schema: [{ fileName: 'CIN_schema_2024.xsd', contents: schema }],
  });
  return result.errors.map((error) => error.message);
}

describe('CIN census export of events recorded as they happened', () => {
  const cohort = generateCohort(DEMO_COHORT_OPTIONS);
  const social = cohort.events.filter((event) => event.source.agency === 'social-care');
  const la = social.find((event) => event.type === 'social-care.referral.received')!.subject.laCode!;

  it('writes the children with an episode open in the year, in the XSD’s shape', async () => {
    const { written, xml } = await exported(cohort.events, la, 2024);
    expect(written.children).toBeGreaterThan(0);
    expect(written.records).toBeGreaterThanOrEqual(written.children);
    const errors = await xsdErrors(xml);
    // A first child protection plan has 0 previous plans, which the XSD's xs:positiveInteger refuses (README).
    expect(errors.filter((message) => !/NumberOfPreviousCPP.*'0'/.test(message))).toEqual([]);
    const referrals = social.filter(
      (event): event is Extract<AgencyEvent, { type: 'social-care.referral.received' }> =>
        event.type === 'social-care.referral.received' && event.subject.laCode === la,
    );
    // The LA's own records: a case transferred out is closed by the other LA, not in this one's.
    const closures = new Map(
      social
        .filter(
          (event): event is Extract<AgencyEvent, { type: 'social-care.case.closed' }> =>
            event.type === 'social-care.case.closed' && event.subject.laCode === la,
        )
        .map((event) => [event.correlationId, event.data.closureDate]),
    );
    const open = new Set(
      referrals
        .filter(
          (referral) =>
            referral.data.referralDate <= '2024-03-31' &&
            (closures.get(referral.eventId) ?? '9999') >= '2023-04-01',
        )
        .map((referral) => referral.subject.laChildId),
    );
    expect(written.children).toBe(open.size);
    for (const id of open) expect(xml).toContain(`<LAchildID>${id}</LAchildID>`);
  });

  it('writes nothing after the reference date and nothing of another LA', async () => {
    const { xml } = await exported(cohort.events, la, 2024);
    for (const [, date] of xml.matchAll(/>(\d{4}-\d{2}-\d{2})</g)) {
      if (!xml.includes(`<ExpectedPersonBirthDate>${date}<`)) expect(date <= '2024-03-31').toBe(true);
    }
    expect((await exported(cohort.events, '000', 2024)).written.children).toBe(0);
  });
});
