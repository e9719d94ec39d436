// `npm run export -- <format> --la <code> --year <yyyy> [--out <path>]`: a statutory return for
// one LA and reference period (the year it ends: --year 2025 is 1 April 2024 to 31 March 2025),
// built from the events in the store at DATABASE_URL (the config's; default the local demo).
//
//   npm run export -- cin-census --la 991 --year 2025 --out cin-2025.xml
//   npm run export -- ssda903 --la 991 --year 2025 --out ./ssda903-2025/
//
// The CIN census is written as XML valid against the DfE schema (stdout without --out); SSDA903
// as one CSV per table into the --out directory. A statutory return is a flow of every child's
// data out of the store: the export is recorded in the access log (action
// `statutory-return-export`, before a byte is written and again with the counts), and refused
// when it cannot be. Exit codes: 0 written, 1 failed, 2 usage.
import { exportCommand, ExportUsageError } from '@throughline/returns';

exportCommand(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`export: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ExportUsageError ? 2 : 1);
  },
);
