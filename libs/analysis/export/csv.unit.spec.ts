import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { type Period } from '../types';
import { answerOf, reReferrals, smallAnswer } from './answer.test-helper';
import { dataCsv } from './csv';
import { tidyTable, timeColumns } from './tidy-table';
import { exportBaseName, writeAnswer } from './write-answer';

const lines = (...rows: string[]) => rows.map((row) => `${row}\r\n`).join('');

describe('the tidy CSV (DfE open-data style)', () => {
  it('writes one row per cell: time columns, a filter per dimension, count, numerator, value, and c for suppressed figures', () => {
    expect(dataCsv(tidyTable(smallAnswer))).toBe(
      lines(
        'time_period,time_identifier,age_band,count,numerator,value,suppressed,suppression_reason',
        '202324,Financial year,1-4,45,10,22.7,false,',
        '202324,Financial year,5-9,c,c,c,true,below-threshold',
        '202324,Financial year,10-15,30,c,c,true,numerator-below-threshold',
        '202425,Financial year,Total,80,25,31.3,false,',
        '202425,Financial year,16-17,0,0,z,false,',
      ),
    );
  });

  it('never writes the value of a suppressed cell, even when one came with it', () => {
    const leaky = answerOf([
      {
        key: { period: '2023-24', 'age-band': '5-9' },
        count: null,
        numerator: null,
        value: 37.5,
        suppressed: true,
        reason: 'secondary',
      },
    ]);
    expect(dataCsv(tidyTable(leaky))).toContain('\r\n202324,Financial year,5-9,c,c,c,true,secondary\r\n');
  });

  it('gives the geography columns (DfE three-digit code kept as text) when grouped by local authority, Total for the margin', () => {
    const answer = answerOf(
      [
        { key: { 'local-authority': '091' }, count: 120, numerator: 40, value: 33.3, suppressed: false },
        { key: { 'local-authority': 'total' }, count: 250, numerator: 70, value: 28, suppressed: false },
      ],
      { groupBy: ['local-authority'] },
    );
    expect(dataCsv(tidyTable(answer))).toBe(
      lines(
        'time_period,time_identifier,geographic_level,country_code,country_name,old_la_code,new_la_code,la_name,count,numerator,value,suppressed,suppression_reason',
        ',Financial year,Local authority,E92000001,England,091,,,120,40,33.3,false,',
        ',Financial year,Total,E92000001,England,,,,250,70,28,false,',
      ),
    );
  });

  it('names the LA of a one-LA cohort that is not broken down by LA', () => {
    const answer = answerOf([{ key: {}, count: 120, numerator: 40, value: 33.3, suppressed: false }], {
      groupBy: [],
      localAuthorities: ['991'],
    });
    expect(dataCsv(tidyTable(answer)).split('\r\n')[1]).toBe(
      ',Financial year,Local authority,E92000001,England,991,,,120,40,33.3,false,',
    );
  });

  it('writes relative terms as plain integers, not formula-escaped text', () => {
    const answer = answerOf(
      [
        { key: { 'relative-term': '-4' }, count: 55, numerator: 20, value: 36.4, suppressed: false },
        { key: { 'relative-term': '+6' }, count: 50, numerator: 15, value: 30, suppressed: false },
      ],
      { groupBy: ['relative-term'] },
    );
    const csv = dataCsv(tidyTable(answer));
    expect(csv).toContain('\r\n,Financial year,-4,55,');
    expect(csv).toContain('\r\n,Financial year,6,50,');
    expect(tidyTable(answer).columns.find((c) => c.name === 'relative_term')?.parquetType).toBe('INTEGER');
    // A margin over terms cannot sit in an integer column: then the column is text, Total included.
    const withTotal = answerOf(
      [
        ...answer.cells,
        { key: { 'relative-term': 'total' }, count: 105, numerator: 35, value: 33.3, suppressed: false },
      ],
      { groupBy: ['relative-term'] },
    );
    expect(tidyTable(withTotal).columns.find((c) => c.name === 'relative_term')?.parquetType).toBe('VARCHAR');
    expect(dataCsv(tidyTable(withTotal))).toContain('\r\n,Financial year,Total,105,');
    expect(dataCsv(tidyTable(withTotal))).toContain('\r\n,Financial year,-4,55,');
  });

  it('writes sex and major ethnic groups with the GSS / DfE harmonised entries, and other keys as they came', () => {
    const answer = answerOf(
      [
        {
          key: { sex: 'female', 'ethnicity-group': 'black' },
          count: 20,
          numerator: 10,
          value: 50,
          suppressed: false,
        },
        {
          key: { sex: 'unknown', 'ethnicity-group': 'not-obtained' },
          count: 20,
          numerator: 10,
          value: 50,
          suppressed: false,
        },
        {
          key: { sex: 'total', 'ethnicity-group': 'mixed' },
          count: 40,
          numerator: 20,
          value: 50,
          suppressed: false,
        },
      ],
      { groupBy: ['sex', 'ethnicity-group'] },
    );
    const records = parse(dataCsv(tidyTable(answer)), { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.sex, r.ethnicity_major])).toEqual([
      ['Female', 'Black / African / Caribbean / Black British'],
      ['Unknown', 'not-obtained'],
      ['Total', 'Mixed / Multiple ethnic groups'],
    ]);
  });

  it('escapes a text key that a spreadsheet would run as a formula', () => {
    const answer = answerOf(
      [{ key: { sex: '=HYPERLINK("x")' }, count: 20, numerator: 10, value: 50, suppressed: false }],
      {
        groupBy: ['sex'],
      },
    );
    const [, row] = parse(dataCsv(tidyTable(answer))) as string[][];
    expect(row[2]).toBe(`'=HYPERLINK("x")`);
  });

  it('reads back with a CSV parser to the same cells, with no byte-order mark', () => {
    const text = dataCsv(tidyTable(smallAnswer));
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    const records = parse(text, { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.age_band, r.count, r.value, r.suppressed])).toEqual([
      ['1-4', '45', '22.7', 'false'],
      ['5-9', 'c', 'c', 'true'],
      ['10-15', '30', 'c', 'true'],
      ['Total', '80', '31.3', 'false'],
      ['16-17', '0', 'z', 'false'],
    ]);
  });

  it('leaves out the numerator column for a measure that has none', () => {
    const answer = answerOf([{ key: { period: '2023-24' }, count: 35, value: 35, suppressed: false }], {
      groupBy: ['period'],
      measure: { ...reReferrals, id: 'cp-plans', unit: 'count', countOf: 'CP plans' },
    });
    expect(dataCsv(tidyTable(answer)).split('\r\n')[0]).toBe(
      'time_period,time_identifier,count,value,suppressed,suppression_reason',
    );
  });
});

describe('time_period and time_identifier', () => {
  it.each([
    ['financial-year', '2023-24', '202324', 'Financial year'],
    ['financial-year', '2023/24', '202324', 'Financial year'],
    ['financial-year', '202324', '202324', 'Financial year'],
    ['academic-year', '2023/24', '202324', 'Academic year'],
    ['academic-year', '2023', '202324', 'Academic year'],
    ['calendar-year', '2024', '2024', 'Calendar year'],
    ['month', '2024-03', '2024', 'March'],
    ['term', '2023/24 autumn', '202324', 'Autumn term'],
    ['term', '2023-24 autumn', '202324', 'Autumn term'],
    ['term', '2023-24-spring', '202324', 'Spring term'],
    ['term', 'Summer term 2023/24', '202324', 'Summer term'],
    ['financial-year', 'total', '', 'Financial year'],
    ['financial-year', 'early days', 'early days', 'Financial year'],
  ] satisfies [Period, string, string, string][])(
    '%s %s is %s, %s',
    (period, key, timePeriod, identifier) => {
      expect(timeColumns(period, key)).toEqual([timePeriod, identifier]);
    },
  );
});

describe('the files', () => {
  it('are the data and its .meta.csv, named after the measure and its grouping (no period, nothing of the cohort)', async () => {
    const { files } = await writeAnswer(smallAnswer, 'csv');
    expect(files.map((f) => [f.name, f.contentType])).toEqual([
      ['re_referrals_12_months_by_age_band.csv', 'text/csv; charset=utf-8'],
      ['re_referrals_12_months_by_age_band.meta.csv', 'text/csv; charset=utf-8'],
    ]);
    expect(Buffer.from(files[0].bytes).toString('utf8')).toBe(dataCsv(tidyTable(smallAnswer)));
    expect(exportBaseName(answerOf([], { groupBy: [] }))).toBe('re_referrals_12_months');
  });
});
