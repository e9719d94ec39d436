// `npm run analysis:export -- --measure <id> --format csv|parquet [options]`: one measure over a
// cohort, asked of the projection's API as the analyst (POST /v1/analysis/queries, x-purpose
// analysis: the same access rules, audit, disclosure control and differencing as any query),
// written as files analysts' tools read (libs/analysis/export).
//
//   export THROUGHLINE_TOKEN=$(npm run -s token -- demo-analyst)
//   npm run analysis:export -- --measure re-referral-12-months --format csv --group-by period,age-band
//   npm run analysis:export -- --measure cp-plan-two-years --format parquet --cohort cohort.json --out ./exports
//
// Options: --cohort <file> (a JSON cohort: entry event types and dates, age bands, sex, LA codes…;
// the Cohort of libs/analysis/types.ts), --group-by a,b (at most two), --period (default
// financial-year), --out <directory> (default the current one), --url (the projection; default
// HOST and PROJECTION_PORT). THROUGHLINE_TOKEN is required: the analyst's own access token.
// Writes <name>.csv or <name>.parquet, and <name>.meta.csv (the data dictionary; a Parquet file
// also carries it in its key-value metadata). Exit codes: 0 written, 1 refused or failed, 2 usage.
import { analysisExportCommand, AnalysisExportUsageError } from '@throughline/analysis';

analysisExportCommand(process.argv.slice(2), { env: process.env, stdout: process.stdout }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`analysis:export: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof AnalysisExportUsageError ? 2 : 1);
  },
);
