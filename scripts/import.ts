// `npm run import -- <format> <path> [options]`: reads a statutory return or health record file
// and publishes its events through the owning agency service's gateway (POST /v1/events/batch:
// the same contracts, publisher rules and Kafka acknowledgements as any agency system), with a
// progress bar and a summary at the end (libs/returns/import-command.ts).
//
//   npm run import -- cin-census cin_2024.xml
//   npm run import -- ssda903 ./ssda903-2024/ --year 2024-25 --la 991
//   npm run import -- fhir bundle.json --org DEMO-CHS
//
// Options: --year YYYY-YY (collection year, when the file does not say), --la NNN (LA code, for
// SSDA903 CSVs), --org CODE (the importing organisation, for FHIR resources that name none), --url
// (the agency service; default HOST and its port), --client (the agency system's client id at the
// local OpenID provider; default the demo system of the agency), --batch N (events per publish,
// 1..1000), --quiet (no progress bar), --json (the summary as JSON).
// THROUGHLINE_TOKEN, when set, is used as the bearer token instead of asking the local provider.
// Exit codes: 0 the import completed (refused records are in the summary), 1 it failed, 2 usage.
import { importCommand, UsageError } from '@throughline/returns';

importCommand(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`import: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
