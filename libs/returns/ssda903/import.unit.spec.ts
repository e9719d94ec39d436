import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { makeUpn, type AgencyEvent } from '@throughline/contracts';
import {
  childXml,
  rowsForYear,
  ssda903Children,
  writeSsda903Csv,
  writeSsda903Xml,
} from '@throughline/synthetic';
import { importedEventId } from '../event-id';
import { fileOnDisk, type ImportFile, type ImportItem } from '../importer';
import { returnRecordId } from '../subject';
import { inferCollectionYear, ssda903Importer } from './import';

jest.setTimeout(60_000);

const LA = '926';

function fileOf(name: string, text: string): ImportFile {
  const content = Buffer.from(text, 'utf8');
  return {
    name,
    sha256: createHash('sha256').update(content).digest('hex'),
    open: () => Readable.from([content]),
  };
}

async function itemsOf(files: readonly ImportFile[], collectionYear: string | undefined = '2024-25') {
  const items: ImportItem[] = [];
  for await (const item of ssda903Importer.read(files, {
    system: 'ssda903',
    laCode: LA,
    ...(collectionYear ? { collectionYear } : {}),
  }))
    items.push(item);
  return items;
}

const eventsOf = (items: readonly ImportItem[]) =>
  items.flatMap((item) => (item.kind === 'event' ? [item.event as AgencyEvent] : []));
const refusedOf = (items: readonly ImportItem[]) =>
  items.flatMap((item) => (item.kind === 'refused' ? [item] : []));
const ofType = <T extends AgencyEvent['type']>(events: readonly AgencyEvent[], type: T) =>
  events.filter((event): event is Extract<AgencyEvent, { type: T }> => event.type === type);

const VALID_UPN = makeUpn('123456789010');
const BAD_UPN = (VALID_UPN[0] === 'A' ? 'B' : 'A') + VALID_UPN.slice(1);

const HEADER = [
  'CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB',
  `C1,M,01/06/2010,WBRI,${BAD_UPN},,`,
  `C2,F,15/09/2012,BAFR,${VALID_UPN.toLowerCase()},,`,
  'C3,M,20/01/2007,OOTH,UN2,,',
].join('\n');

// C1: starts, placement changes (reason on the row that ended), legal status changes, ends, starts again.
const EPISODES = [
  'CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN',
  'C1,10/05/2024,S,V2,N1,U6,PR1,01/08/2024,X1,CREQB,ZZ99 1AA,ZZ99 2BB,',
  'C1,01/08/2024,P,V2,N1,K2,PR4,01/10/2024,X1,,ZZ99 1AA,ZZ99 3CC,SC123456',
  'C1,01/10/2024,L,C2,N1,K2,PR4,05/01/2025,E4A,,ZZ99 1AA,ZZ99 3CC,SC123456',
  'C1,20/02/2025,S,V2,N4,U6,PR1,,,,ZZ99 1AA,ZZ99 2BB,',
  'C3,01/06/2023,P,C2,N8,K3,PR4,,,,,,',
].join('\n');

const REVIEWS = [
  'CHILD,DOB,REVIEW,REVIEW_CODE',
  'C1,01/06/2010,01/06/2024,PN1',
  'C1,01/06/2010,31/02/2025,PN2',
].join('\n');
const MISSING = [
  'CHILD,DOB,MISSING,MIS_START,MIS_END',
  'C1,01/06/2010,M,03/09/2024,04/09/2024',
  'C1,01/06/2010,A,01/03/2025,',
].join('\n');
const UASC = ['CHILD,DOB,SEX,DUC', 'C3,20/01/2007,M,20/01/2025'].join('\n');
const OC2 = [
  'CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED',
  'C3,20/01/2007,17,,0,1,1,0,1,1,1,0',
].join('\n');
const OC3 = ['CHILD,DOB,IN_TOUCH,ACTIV,ACCOM', 'C4,02/07/2005,YES,F2,D1'].join('\n');
const AD1 = [
  'CHILD,DOB,DATE_INT,DATE_MATCH,FOSTER_CARE,NB_ADOPTR,SEX_ADOPTR,LS_ADOPTR',
  'C2,15/09/2012,01/05/2024,01/09/2024,1,2,MF,L11',
].join('\n');
const PLACED = [
  'CHILD,DOB,DATE_PLACED,DATE_PLACED_CEASED,REASON_PLACED_CEASED',
  'C2,15/09/2012,01/05/2024,,',
  'C1,01/06/2010,01/06/2024,01/01/2025,RD3',
].join('\n');
const PREV_PERM = ['CHILD,DOB,PREV_PERM,LA_PERM,DATE_PERM', 'C1,01/06/2010,P2,SCO,zz/05/2016'].join('\n');
const SW = [
  'CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON',
  'C1,01/06/2010,SW1,10/05/2024,01/11/2024,LEFTRL',
  'C1,01/06/2010,SW2,01/11/2024,,',
].join('\n');

const RETURN = [
  fileOf('episodes.csv', EPISODES),
  fileOf('header.csv', HEADER),
  fileOf('reviews.csv', REVIEWS),
  fileOf('missing.csv', MISSING),
  fileOf('uasc.csv', UASC),
  fileOf('oc2.csv', OC2),
  fileOf('oc3.csv', OC3),
  fileOf('ad1.csv', AD1),
  fileOf('placed_for_adoption.csv', PLACED),
  fileOf('prev_perm.csv', PREV_PERM),
  fileOf('sw_episodes.csv', SW),
];

describe('SSDA903 importer: the CSV tables', () => {
  let items: ImportItem[];
  let events: AgencyEvent[];
  beforeAll(async () => {
    items = await itemsOf(RETURN);
    events = eventsOf(items);
  });

  it('meets each child once, the header first whatever the order of the files', () => {
    expect(
      items.filter((item) => item.kind === 'child').map((item) => item.kind === 'child' && item.childId),
    ).toEqual(['C1', 'C2', 'C3', 'C4']);
    expect(items[0]).toEqual({ kind: 'child', childId: 'C1' });
  });

  it('reconstructs the periods of care: started, changed (placement, then legal status), ended, started again', () => {
    const c1 = events.filter(
      (event) => event.subject.laChildId === 'C1' && event.type.includes('looked-after-episode'),
    );
    expect(
      c1.map((event) => [
        event.type.replace('social-care.looked-after-episode.', ''),
        event.occurredAt.slice(0, 10),
      ]),
    ).toEqual([
      ['started', '2024-05-10'],
      ['changed', '2024-08-01'],
      ['changed', '2024-10-01'],
      ['ended', '2025-01-05'],
      ['started', '2025-02-20'],
    ]);
    const [ended] = ofType(events, 'social-care.looked-after-episode.ended');
    expect(ended.data).toEqual({ startDate: '2024-05-10', endDate: '2025-01-05', reasonEnded: 'E4A' });
  });

  it('carries the placement change reason from the preceding row to the change; a legal status change has none', () => {
    const changes = ofType(events, 'social-care.looked-after-episode.changed').filter(
      (e) => e.subject.laChildId === 'C1',
    );
    expect(changes.map((change) => change.data)).toEqual([
      {
        changeDate: '2024-08-01',
        reasonForNewEpisode: 'P',
        legalStatus: 'V2',
        placement: 'K2',
        placementProvider: 'PR4',
        reasonPlaceChange: 'CREQB',
      },
      {
        changeDate: '2024-10-01',
        reasonForNewEpisode: 'L',
        legalStatus: 'C2',
        placement: 'K2',
        placementProvider: 'PR4',
      },
    ]);
  });

  it('a change whose preceding episode is not in the return is recorded without its reason, not invented', () => {
    const [c3] = ofType(events, 'social-care.looked-after-episode.changed').filter(
      (e) => e.subject.laChildId === 'C3',
    );
    expect(c3.data).toEqual({
      changeDate: '2023-06-01',
      reasonForNewEpisode: 'P',
      legalStatus: 'C2',
      placement: 'K3',
      placementProvider: 'PR4',
    });
    expect(
      events.filter(
        (e) => e.subject.laChildId === 'C3' && e.type === 'social-care.looked-after-episode.started',
      ),
    ).toEqual([]);
  });

  it('maps every table to its events', () => {
    const types = (child: string) => events.filter((e) => e.subject.laChildId === child).map((e) => e.type);
    expect(types('C3')).toEqual(
      expect.arrayContaining([
        'social-care.uasc-status.recorded',
        'social-care.uasc-status.ceased',
        'social-care.looked-after-outcomes.recorded',
        'social-care.upn-unknown.recorded',
      ]),
    );
    expect(ofType(events, 'social-care.looked-after-outcomes.recorded')[0].data).toEqual({
      yearEnding: '2025-03-31',
      sdqScore: 17,
      convicted: false,
      healthCheck: true,
      immunisations: true,
      teethCheck: false,
      healthAssessment: true,
      substanceMisuse: true,
      interventionReceived: true,
      interventionOffered: false,
    });
    expect(ofType(events, 'social-care.care-leaver.contacted')[0].data).toEqual({
      yearEnding: '2025-03-31',
      inTouch: 'YES',
      activity: 'F2',
      accommodation: 'D1',
    });
    expect(ofType(events, 'social-care.adoption-match.recorded')[0].data).toEqual({
      decisionDate: '2024-05-01',
      matchedDate: '2024-09-01',
      adoptedByFosterCarers: true,
      numberOfAdopters: 2,
      adopterSex: 'MF',
      adopterLegalStatus: 'L11',
    });
    expect(
      ofType(events, 'social-care.placement-for-adoption.decided').map((e) => e.data.decisionDate),
    ).toEqual(['2024-05-01', '2024-06-01']);
    expect(ofType(events, 'social-care.placement-for-adoption.reversed')[0].data).toEqual({
      decisionDate: '2024-06-01',
      reversedDate: '2025-01-01',
      reason: 'RD3',
    });
    expect(ofType(events, 'social-care.previous-permanence.recorded')[0].data).toEqual({
      yearEnding: '2025-03-31',
      option: 'P2',
      arrangedBy: 'SCO',
      orderDate: '2016-05',
    });
    expect(ofType(events, 'social-care.social-worker.allocated').map((e) => e.data.workerId)).toEqual([
      'SW1',
      'SW2',
    ]);
    expect(ofType(events, 'social-care.social-worker.allocation-ended')[0].data).toEqual({
      workerId: 'SW1',
      startDate: '2024-05-10',
      endDate: '2024-11-01',
      reason: 'LEFTRL',
    });
    expect(ofType(events, 'social-care.missing-episode.recorded').map((e) => e.data)).toEqual([
      { kind: 'M', startDate: '2024-09-03', endDate: '2024-09-04' },
      { kind: 'A', startDate: '2025-03-01' },
    ]);
    expect(ofType(events, 'social-care.child-characteristics.recorded').map((e) => e.data.ethnicity)).toEqual(
      ['WBRI', 'BAFR', 'OOTH'],
    );
  });

  it('quarantines a UPN failing its check letter (the child still recorded), upper-cases a lower-case one, and keeps UN codes as UPN unknown', () => {
    const subject = (child: string) => events.find((e) => e.subject.laChildId === child)!.subject;
    expect(subject('C1').upn).toBeUndefined();
    expect(subject('C1').quarantinedIdentifiers).toEqual([
      expect.objectContaining({ field: 'upn', value: BAD_UPN, rule: 'upn-check-letter' }),
    ]);
    expect(subject('C2').upn).toBe(VALID_UPN);
    expect(subject('C3').upn).toBeUndefined();
    expect(ofType(events, 'social-care.upn-unknown.recorded')[0].data).toEqual({
      asAt: '2025-03-31',
      reason: 'UN2',
    });
    expect(subject('C1')).toMatchObject({
      recordId: returnRecordId(LA, 'C1'),
      laChildId: 'C1',
      laCode: LA,
      sex: 'M',
      dateOfBirth: '2010-06-01',
    });
  });

  it('refuses a row with an impossible date by its line, rule and reason, and goes on', () => {
    expect(refusedOf(items)).toEqual([
      {
        kind: 'refused',
        location: 'reviews.csv line 3',
        rule: 'date-format',
        reason: "REVIEW '31/02/2025' is not a date (dd/mm/yyyy)",
      },
    ]);
    expect(ofType(events, 'social-care.looked-after-review.held')).toHaveLength(1);
  });

  it('gives every event its provenance: the return, the collection year, the file hash and the line', () => {
    const [started] = ofType(events, 'social-care.looked-after-episode.started');
    expect(started.provenance).toEqual({
      kind: 'statutory-return',
      format: 'ssda903',
      collectionYear: '2024-25',
      fileSha256: RETURN[0].sha256,
      location: 'episodes.csv line 2',
    });
    expect(started.eventId).toBe(importedEventId('ssda903', LA, 'C1', 'episode', 'started', '2024-05-10'));
  });

  it('matches the tables by their column headers, not their file names', async () => {
    const renamed = RETURN.map((file, index) => ({ ...file, name: `table-${index}.csv` }));
    const again = eventsOf(await itemsOf(renamed));
    expect(again.map((event) => event.eventId).sort()).toEqual(events.map((event) => event.eventId).sort());
  });

  it('infers the collection year from the latest event date when none is given, and says so in the provenance', async () => {
    expect(await inferCollectionYear(RETURN)).toBe('2024-25');
    const inferred = eventsOf(await itemsOf(RETURN, undefined));
    expect(new Set(inferred.map((event) => event.provenance?.collectionYear))).toEqual(new Set(['2024-25']));
  });

  it('records SEX in the code set of the return’s year (1/2 to 2023-24, M/F/U from 2024-25), never refusing the child for it', async () => {
    const header = (sex: string) => [
      fileOf('header.csv', `CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nC9,${sex},01/06/2010,WBRI,UN1,,`),
    ];
    const sexOf = async (sex: string, year: string) => {
      const items = await itemsOf(header(sex), year);
      return [eventsOf(items)[0]?.subject.sex, refusedOf(items).map((item) => item.rule)];
    };
    expect(await sexOf('1', '2024-25')).toEqual(['M', []]);
    expect(await sexOf('F', '2023-24')).toEqual(['2', []]);
    expect(await sexOf('U', '2023-24')).toEqual([undefined, ['code-valid-in-year']]);
  });

  it('refuses to run without the LA code the CSVs do not hold', async () => {
    const read = ssda903Importer.read(RETURN, { system: 'ssda903' });
    await expect(read[Symbol.asyncIterator]().next()).rejects.toThrow('LA code');
  });
});

describe('SSDA903 importer: a synthetic return', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tl-ssda903-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function importYear(year: number, format: 'csv' | 'xml' = 'csv') {
    const sub = join(dir, `${format}-${year}`);
    mkdirSync(sub, { recursive: true });
    const options = { seed: 11, children: 150, year, anchorYear: 2025 };
    if (format === 'csv') await writeSsda903Csv(sub, options);
    else await writeSsda903Xml(join(sub, 'return.xml'), options);
    const files = await Promise.all(readdirSync(sub).map((name) => fileOnDisk(join(sub, name))));
    return itemsOf(files, `${year - 1}-${String(year % 100).padStart(2, '0')}`);
  }

  it('imports every row but the planted bad dates; most UPNs are quarantined and every child recorded', async () => {
    const items = await importYear(2025);
    const refused = refusedOf(items);
    expect(refused.length).toBeGreaterThan(0);
    expect(
      refused.every((item) => item.rule === 'date-format' && /^reviews\.csv line \d+$/.test(item.location)),
    ).toBe(true);
    const children = items.filter((item) => item.kind === 'child');
    expect(children).toHaveLength(150);
    const events = eventsOf(items);
    const quarantined = new Set(
      events.filter((e) => e.subject.quarantinedIdentifiers?.length).map((e) => e.subject.laChildId),
    );
    expect(quarantined.size / children.length).toBeGreaterThan(0.5);
    const types = new Set(events.map((event) => event.type));
    for (const type of [
      'social-care.looked-after-episode.started',
      'social-care.looked-after-episode.changed',
      'social-care.looked-after-episode.ended',
      'social-care.looked-after-review.held',
      'social-care.missing-episode.recorded',
      'social-care.uasc-status.recorded',
      'social-care.looked-after-outcomes.recorded',
      'social-care.care-leaver.contacted',
      'social-care.adoption-match.recorded',
      'social-care.placement-for-adoption.decided',
      'social-care.previous-permanence.recorded',
      'social-care.social-worker.allocated',
      'social-care.social-worker.allocation-ended',
      'social-care.upn-unknown.recorded',
    ] as const)
      expect([type, types.has(type)]).toEqual([type, true]);
    expect(
      ofType(events, 'social-care.looked-after-episode.changed').some((e) => e.data.placement === 'K3'),
    ).toBe(true);
  });

  it('gives the same ids to the same records in two years’ returns, and nothing new on importing a return again', async () => {
    const [first, again, next] = [
      eventsOf(await importYear(2025)),
      eventsOf(await importYear(2025)),
      eventsOf(await importYear(2026)),
    ];
    expect(again.map((e) => e.eventId)).toEqual(first.map((e) => e.eventId));
    const firstIds = new Set(first.map((e) => e.eventId));
    const sharedEpisodes = next.filter(
      (e) => e.type === 'social-care.looked-after-episode.started' && firstIds.has(e.eventId),
    );
    expect(sharedEpisodes.length).toBeGreaterThan(0);
    // An episode in both returns has one id and one content (only the provenance differs).
    const byId = new Map(first.map((e) => [e.eventId, e]));
    for (const event of next.filter((e) => byId.has(e.eventId))) {
      const { provenance: _a, ...rest } = event;
      const { provenance: _b, ...earlier } = byId.get(event.eventId)!;
      expect(rest).toEqual(earlier);
    }
  });

  it('reads the XML form into the same records as the CSV tables (the XML has no social worker table)', async () => {
    const csv = eventsOf(await importYear(2025));
    const xml = await importYear(2025, 'xml');
    expect(
      refusedOf(xml).every((item) => item.rule === 'date-format' && item.location.includes('/AREVIEW[')),
    ).toBe(true);
    const withoutWorkers = csv.filter((e) => !e.type.startsWith('social-care.social-worker.'));
    expect(
      eventsOf(xml)
        .map((e) => e.eventId)
        .sort(),
    ).toEqual(withoutWorkers.map((e) => e.eventId).sort());
    expect(eventsOf(xml)[0].provenance?.location).toMatch(/^return\.xml EXPSSDA903\/CHILD\[1\]/);
  });

  it('writes each child of the XML form from the same rows', () => {
    const [{ history }] = [...ssda903Children({ seed: 11, children: 1, year: 2025 })];
    expect(childXml(rowsForYear(history, 2025))).toMatch(/^<CHILD><HEADER><CHILDID>\d{6}<\/CHILDID>/);
  });
});
