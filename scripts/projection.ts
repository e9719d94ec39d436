// `npm run projection -- <status | rebuild <name> | drop-old <name>>`: blue-green rebuilds of
// the read models in the database at DATABASE_URL (the config's; default the local demo), see
// docs/decisions/023-blue-green-rebuild.md. Ctrl-C stops a rebuild after its batch in hand; run
// it again to resume. Exit codes: 0 done, 1 failed or interrupted, 2 usage.
import { projectionCommand, ProjectionUsageError } from '../apps/projection/projection-command';

const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());

projectionCommand(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupted.signal,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`projection: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ProjectionUsageError ? 2 : 1);
  },
);
