// `npm run synthetic -- <cin-census | ssda903 | fhir> --out <path> [options]`: writes a synthetic
// cohort (made by libs/synthetic: nobody real) as the files agency systems produce, with the
// awkward cases real files have (UPNs failing their check letter, lower-case UPNs, UPN-unknown
// reasons, dates out of order, unverified NHS numbers, unknown vaccine codes), to try the importers.
//
//   npm run synthetic -- cin-census --children 200 --out /tmp/cin-2024-25.xml
//   npm run synthetic -- ssda903 --children 200 --year 2025 --out /tmp/ssda903-2025/
//   npm run synthetic -- ssda903 --children 200 --year 2025 --xml --out /tmp/ssda903-2025.xml
//   npm run synthetic -- fhir --children 50 --out /tmp/health.json      (--xml for FHIR XML)
//
// Options: --children N (default 200), --la NNN (CIN census; default 991, the demo LA), --year
// YYYY (the year the collection year ends; default 2025), --seed N, --xml.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import {
  cinCensusChunks,
  fhirBundleChunks,
  fhirResourcesOf,
  generateCohort,
  writeSsda903Csv,
  writeSsda903Xml,
} from '@throughline/synthetic';

const USAGE =
  'usage: npm run synthetic -- <cin-census | ssda903 | fhir> --out <path> [--children 200] [--la 991] [--year 2025] [--seed 1] [--xml]';

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      children: { type: 'string', default: '200' },
      la: { type: 'string', default: '991' },
      year: { type: 'string', default: '2025' },
      seed: { type: 'string', default: '1' },
      xml: { type: 'boolean', default: false },
    },
  });
  const children = Number(values.children);
  const year = Number(values.year);
  const seed = Number(values.seed);
  if (positionals.length !== 1 || !values.out) throw new Error(USAGE);
  if (!Number.isInteger(children) || children < 1 || children > 1_000_000)
    throw new Error('--children must be 1..1000000');
  if (!/^\d{4}$/.test(values.year!))
    throw new Error('--year must be the year the collection year ends, e.g. 2025');
  if (!/^\d{3}$/.test(values.la!)) throw new Error('--la must be a 3-digit LA code');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const out = resolve(values.out);
  const collectionYear = `${year - 1}-${String(year % 100).padStart(2, '0')}`;
  switch (positionals[0]) {
    case 'cin-census':
    case 'cin':
      await pipeline(
        Readable.from(cinCensusChunks({ children, laCode: values.la, collectionYear, seed })),
        createWriteStream(out),
      );
      process.stderr.write(
        `wrote a CIN census ${collectionYear} of ${children} children (LA ${values.la}) to ${out}\n`,
      );
      return;
    case 'ssda903':
    case '903':
      if (values.xml) {
        const written = await writeSsda903Xml(out, { seed, children, year });
        process.stderr.write(
          `wrote an SSDA903 XML of ${written.children} children, year ending March ${year}, to ${out}\n`,
        );
      } else {
        await mkdir(out, { recursive: true });
        const written = await writeSsda903Csv(out, { seed, children, year });
        process.stderr.write(
          `wrote SSDA903 tables of ${written.children} children, year ending March ${year}, to ${out}: ` +
            `${Object.entries(written.rows)
              .map(([table, rows]) => `${table} ${rows}`)
              .join(', ')}\n`,
        );
      }
      return;
    case 'fhir': {
      const cohort = generateCohort({
        seed,
        children,
        startYear: year - 17,
        endYear: year,
        now: `${year}-03-31T00:00:00Z`,
      });
      const resources = fhirResourcesOf(cohort.events, { awkward: true });
      await pipeline(
        Readable.from(fhirBundleChunks(resources, values.xml ? 'xml' : 'json')),
        createWriteStream(out),
      );
      process.stderr.write(
        `wrote a FHIR Bundle (${values.xml ? 'XML' : 'JSON'}) of ${resources.length} resources to ${out}\n`,
      );
      return;
    }
    default:
      throw new Error(`unknown kind "${positionals[0]}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`synthetic: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
