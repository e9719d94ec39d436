import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './app-process';

/**
 * Timed HTTP reads from a process of their own. The bench process holds its cohort and, in the
 * scale stage, the store's template (about 80 MB live); each answer of about 1 MB that it took in
 * as text set off a major collection of that heap (every ~150 ms during the busy child's reads,
 * mutator utilisation 72–79 %), so a read timed there measured the bench's collector beside the
 * app. This client holds only the answer in hand. It reads each answer to its end as text, as the
 * bench did and a page does.
 */
export interface ReadPlan {
  /** The app's base URL, e.g. `http://127.0.0.1:41641`. */
  readonly base: string;
  /** The reader's headers (a bearer token): given on stdin, never in argv or the environment. */
  readonly headers: Readonly<Record<string, string>>;
  /** Paths read in turn each round, e.g. `/v1/children/<key>/timeline`. */
  readonly paths: readonly string[];
  /** Rounds read and not timed, first. */
  readonly warmups: number;
  readonly rounds: number;
}

export interface ReadSamples {
  /** Milliseconds per path (in `paths` order), one per timed round, from the request to the last byte. */
  readonly samples: number[][];
}

async function readOnce(
  base: string,
  path: string,
  headers: Readonly<Record<string, string>>,
): Promise<number> {
  const since = process.hrtime.bigint();
  const response = await fetch(`${base}${path}`, { headers });
  const body = await response.text();
  const took = Number(process.hrtime.bigint() - since) / 1e6;
  if (!response.ok)
    throw new Error(
      `${path.replace(/\/children\/[^/]+/, '/children/:childKey')} answered ${response.status}: ${body.slice(0, 300)}`,
    );
  return took;
}

/** Runs the plan here (the child process's side). */
export async function runReadPlan(plan: ReadPlan): Promise<ReadSamples> {
  for (let round = 0; round < plan.warmups; round++)
    for (const path of plan.paths) await readOnce(plan.base, path, plan.headers);
  const samples: number[][] = plan.paths.map(() => []);
  for (let round = 0; round < plan.rounds; round++)
    for (const [index, path] of plan.paths.entries())
      samples[index].push(await readOnce(plan.base, path, plan.headers));
  return { samples };
}

/** Runs the plan in a fresh Node process (dist/bench/read-client.js) and returns its samples. */
export function readInOwnProcess(plan: ReadPlan, timeoutMs: number): Promise<ReadSamples> {
  const root = projectRoot();
  const child = spawn(
    process.execPath,
    ['-r', join(root, 'scripts', 'register-dist.js'), join(root, 'dist', 'bench', 'read-client.js')],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: AbortSignal.timeout(timeoutMs),
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(JSON.stringify(plan));
  return new Promise((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`the read client failed: ${error.message}`)));
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`the read client exited ${code}: ${stderr.trim().slice(0, 500)}`));
      try {
        resolve(JSON.parse(stdout) as ReadSamples);
      } catch {
        reject(new Error(`the read client printed no samples: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

if (require.main === module) {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => (input += chunk));
  process.stdin.on('end', () => {
    runReadPlan(JSON.parse(input) as ReadPlan).then(
      (samples) => process.stdout.write(JSON.stringify(samples)),
      (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      },
    );
  });
}
