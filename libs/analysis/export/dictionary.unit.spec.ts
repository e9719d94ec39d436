import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { smallAnswer } from './answer.test-helper';
import { metaCsv } from './csv';
import { dataDictionary, dictionaryFile, writeAnswer } from './write-answer';

const metaRecords = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

describe('the data dictionary (.meta.csv)', () => {
  const generatedAt = new Date('2026-12-02T10:00:00Z');
  const records = metaRecords(metaCsv(dataDictionary(smallAnswer, { generatedAt })));
  const column = (name: string) => records.find((r) => r.col_type !== 'Dataset' && r.col_name === name);
  const facts = (key: string) =>
    records.filter((r) => r.col_type === 'Dataset' && r.col_name === key).map((r) => r.notes);

  it('has a row for every column of the data file, in its order, with its kind, CSV text and Parquet type', () => {
    expect(
      records.filter((r) => r.col_type !== 'Dataset').map((r) => [r.col_name, r.col_type, r.parquet_type]),
    ).toEqual([
      ['time_period', 'Time', 'VARCHAR'],
      ['time_identifier', 'Time', 'VARCHAR'],
      ['age_band', 'Filter', 'VARCHAR'],
      ['count', 'Indicator', 'INTEGER'],
      ['numerator', 'Indicator', 'INTEGER'],
      ['value', 'Indicator', 'DOUBLE'],
      ['suppressed', 'Flag', 'BOOLEAN'],
      ['suppression_reason', 'Flag', 'VARCHAR'],
    ]);
    expect(Object.keys(records[0])).toEqual([
      'col_name',
      'col_type',
      'label',
      'csv_type',
      'parquet_type',
      'unit',
      'notes',
    ]);
  });

  it('labels the indicators with what they count and their unit, and says what c and z mean', () => {
    expect(column('count')).toMatchObject({
      label: 'Number of referrals',
      unit: 'number',
      csv_type: 'integer, or c / z',
    });
    expect(column('count')?.notes).toMatch(
      /rounded to the nearest 5\. c when suppressed by disclosure control, z when not applicable/,
    );
    expect(column('value')).toMatchObject({
      label: 'Percentage of referrals meeting the measure',
      unit: '%',
    });
    expect(column('value')?.notes).toMatch(
      /^Re-referrals within 12 months: computed from the exact \(unrounded\) counts/,
    );
  });

  it("carries the measure's definition, source, caveats, the query and the disclosure rules applied", () => {
    expect(facts('measure_id')).toEqual(['re-referrals-12-months']);
    expect(facts('definition')[0]).toMatch(/^Referrals in the year within 12 months/);
    expect(facts('source')).toEqual([
      'DfE LAIT data dictionary <https://example.test/lait_data_dictionary.csv>',
    ]);
    expect(facts('caveat')).toEqual([
      'Referrals before the first imported year cannot count as previous referrals.',
    ]);
    expect(facts('event_types')).toEqual(['social-care.referral-received.v1']);
    expect(facts('group_by')).toEqual(['period, age-band']);
    expect(facts('cohort')).toEqual(['{}']);
    expect(facts('cohort_size')).toEqual(['1250 (rounded to the nearest 5)']);
    expect([facts('suppression_threshold'), facts('rounding_base'), facts('minimum_cohort')]).toEqual([
      ['10'],
      ['5'],
      ['20'],
    ]);
    expect(facts('disclosure_control')[0]).toMatch(
      /more than 0 and fewer than 10 units.*0 is a true zero.*secondary.*nearest 5.*under 20 children/,
    );
    expect(facts('as_of_position')).toEqual(['48213']);
    expect(facts('generated_at')).toEqual(['2026-12-02T10:00:00.000Z']);
  });

  it('is the same file beside a CSV and beside a Parquet, and on its own', async () => {
    const csv = await writeAnswer(smallAnswer, 'csv', { generatedAt });
    const alone = dictionaryFile(smallAnswer, { generatedAt });
    expect(alone.name).toBe('re_referrals_12_months_by_age_band.meta.csv');
    expect(Buffer.from(alone.bytes).equals(Buffer.from(csv.files[1].bytes))).toBe(true);
  });

  it('is the same for the same answer (no clock unless asked)', () => {
    expect(metaCsv(dataDictionary(smallAnswer))).toBe(metaCsv(dataDictionary(smallAnswer)));
    expect(metaCsv(dataDictionary(smallAnswer))).not.toContain('generated_at');
  });
});
