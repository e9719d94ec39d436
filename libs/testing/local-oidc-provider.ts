import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { projectRoot } from '@throughline/platform';

/**
 * A real local OpenID provider of one test's own (infra/oidc.mjs in a child process, on a free
 * port, with its own generated keys, passwords and secrets in a temporary cache dir), and the
 * `npm run token` script pointed at it.
 */
export interface LocalOidcProvider {
  readonly issuer: string;
  /** THROUGHLINE_CACHE of this provider (its generated state is in `<cacheDir>/oidc`). */
  readonly cacheDir: string;
  /** OIDC_* variables for loadConfig(), so that apps and verifiers trust this provider. */
  readonly env: Readonly<Record<string, string>>;
  /** An access token for a demo person or agency system, by a real grant (scripts/token.mjs). */
  token(name: string): Promise<string>;
  /** The provider's private signing keys (JWKs), for tests that forge tokens. */
  signingKeys(): Record<string, string>[];
  /** Stops the provider and deletes its cache dir. Idempotent. */
  stop(): Promise<void>;
}

// From source (jest) and from dist/ (the benchmark) alike.
const ROOT = projectRoot();
const PROVIDER = join(ROOT, 'infra', 'oidc.mjs');
const TOKEN_SCRIPT = join(ROOT, 'scripts', 'token.mjs');
const run = promisify(execFile);

export async function startLocalOidcProvider(
  options: {
    audience?: string;
    readyTimeoutMs?: number;
    /** More of the provider's environment, e.g. PROJECTION_PORT or PAGE_ORIGIN for the page client's redirect. */
    env?: Readonly<Record<string, string>>;
  } = {},
): Promise<LocalOidcProvider> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'throughline-oidc-'));
  const audience = options.audience ?? 'throughline';
  const child = spawn(process.execPath, [PROVIDER, '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ...options.env, THROUGHLINE_CACHE: cacheDir, OIDC_AUDIENCE: audience },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let issuer: string;
  try {
    issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the OpenID provider was not ready after ${timeoutMs} ms`)),
        timeoutMs,
      );
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith('@@oidc-ready ')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line.slice('@@oidc-ready '.length)) as { issuer: string }).issuer);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the OpenID provider exited (${code}) before it was ready: ${output.join('')}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(cacheDir, { recursive: true, force: true });
    throw error;
  }
  const env = { OIDC_ISSUER: issuer, OIDC_AUDIENCE: audience };
  let stopped: Promise<void> | undefined;
  return {
    issuer,
    cacheDir,
    env,
    async token(name) {
      const { stdout } = await run(process.execPath, [TOKEN_SCRIPT, name], {
        cwd: ROOT,
        env: { ...process.env, ...env, THROUGHLINE_CACHE: cacheDir },
        timeout: 30_000,
      });
      return stdout.trim();
    },
    signingKeys() {
      const state = JSON.parse(readFileSync(join(cacheDir, 'oidc', 'local-provider.json'), 'utf8')) as {
        jwks: { keys: Record<string, string>[] };
      };
      return state.jwks.keys;
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(cacheDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
