import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AgencyEvent } from '@throughline/contracts';
import type { ImportFile } from '../importer';
import { foldSsda903, ssda903Rows } from './export';
import { ssda903Importer } from './import';

function fileOf(name: string, text: string): ImportFile {
  const content = Buffer.from(text, 'utf8');
  return {
    name,
    sha256: createHash('sha256').update(content).digest('hex'),
    open: () => Readable.from([content]),
  };
}

async function eventsOf(files: ImportFile[], laCode: string, collectionYear: string): Promise<AgencyEvent[]> {
  const events: AgencyEvent[] = [];
  for await (const item of ssda903Importer.read(files, { system: 'ssda903', laCode, collectionYear }))
    if (item.kind === 'event') events.push(item.event as AgencyEvent);
  return events;
}

async function* each<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

const HEADER = 'CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nC1,1,01/06/2010,WBRI,UN1,,';
const EPISODES_2024 = [
  'CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN',
  'C1,10/05/2023,S,V2,N1,U6,PR1,01/08/2023,X1,CREQB,,,',
  'C1,01/08/2023,P,V2,N1,K2,PR4,,,,,,',
].join('\n');
// The next year's return: the open episode again, now closed; its preceding row is not in it.
const EPISODES_2025 = [
  'CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN',
  'C1,01/08/2023,P,V2,N1,K2,PR4,05/01/2025,E4A,,,,',
].join('\n');

describe('SSDA903 export: the rows of a year from the events', () => {
  it('leaves the end of an episode open on 31 March blank, and gives the change its reason from the episode before', async () => {
    const events = await eventsOf(
      [fileOf('header.csv', HEADER), fileOf('episodes.csv', EPISODES_2024)],
      '926',
      '2023-24',
    );
    const rows = ssda903Rows(await foldSsda903(each(events), '926'), 2024);
    expect(
      rows.Episodes.map((row) => [row.DECOM, row.RNE, row.CIN, row.DEC, row.REC, row.REASON_PLACE_CHANGE]),
    ).toEqual([
      ['10/05/2023', 'S', 'N1', '01/08/2023', 'X1', 'CREQB'],
      ['01/08/2023', 'P', 'N1', '', '', ''],
    ]);
    expect(rows.Header).toEqual([
      { CHILD: 'C1', SEX: '1', DOB: '01/06/2010', ETHNIC: 'WBRI', UPN: 'UN1', MOTHER: '', MC_DOB: '' },
    ]);
  });

  it('merges two years’ returns: the change keeps the reason the earlier return held, the end comes from the later', async () => {
    const first = await eventsOf(
      [fileOf('header.csv', HEADER), fileOf('episodes.csv', EPISODES_2024)],
      '926',
      '2023-24',
    );
    const second = await eventsOf(
      [fileOf('header.csv', HEADER), fileOf('episodes.csv', EPISODES_2025)],
      '926',
      '2024-25',
    );
    const children = await foldSsda903(each([...first, ...second]), '926');
    const next = ssda903Rows(children, 2025);
    expect(next.Episodes.map((row) => [row.DECOM, row.RNE, row.CIN, row.DEC, row.REC])).toEqual([
      ['01/08/2023', 'P', 'N1', '05/01/2025', 'E4A'],
    ]);
    // The year before: the same change, with its reason on the episode it ended.
    expect(ssda903Rows(children, 2024).Episodes.map((row) => row.REASON_PLACE_CHANGE)).toEqual(['CREQB', '']);
    // SEX in the code set of the year written.
    expect(next.Header[0].SEX).toBe('M');
    expect(ssda903Rows(children, 2026).Episodes).toEqual([]);
  });

  it('writes only the children of the LA asked for', async () => {
    const events = await eventsOf(
      [fileOf('header.csv', HEADER), fileOf('episodes.csv', EPISODES_2024)],
      '926',
      '2023-24',
    );
    const rows = ssda903Rows(await foldSsda903(each(events), '927'), 2024);
    expect(rows.Header).toEqual([]);
    expect(rows.Episodes).toEqual([]);
  });
});
