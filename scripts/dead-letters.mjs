#!/usr/bin/env node
// Dead letters from the command line, through the recorder's HTTP endpoints.
//
//   npm run dead-letters -- list [--after <id>] [--limit <n>]
//   npm run dead-letters -- payload <id>
//   npm run dead-letters -- redrive <id>
//
// Every call carries an access token (THROUGHLINE_TOKEN, e.g. from `npm run -s token -- demo-ig-officer`)
// and a purpose (--purpose, else DEAD_LETTERS_PURPOSE, else data-quality): the recorder records who
// asked and why. The recorder is found at RECORDER_URL, else http://HOST:RECORDER_PORT (127.0.0.1:3004).
// Exit codes: 0 done, 1 refused or failed (the answer is printed), 2 bad usage.

const USAGE = `usage (with THROUGHLINE_TOKEN set):
  dead-letters list [--after <id>] [--limit <n>] [--purpose <purpose>]
  dead-letters payload <id> [--purpose <purpose>]
  dead-letters redrive <id> [--purpose <purpose>]`;

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const positional = [];
  const flags = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) fail(`${arg} needs a value\n${USAGE}`);
      flags[arg.slice(2)] = value;
      i += 1;
    } else {
      positional.push(arg);
    }
  }
  return { positional, flags };
}

const baseUrl = (
  process.env.RECORDER_URL ??
  `http://${process.env.HOST ?? '127.0.0.1'}:${process.env.RECORDER_PORT ?? '3004'}`
).replace(/\/+$/, '');

async function call(method, path, headers = {}) {
  let response;
  try {
    response = await fetch(`${baseUrl}${path}`, { method, headers });
  } catch (error) {
    fail(`recorder not reachable at ${baseUrl}: ${error.cause?.message ?? error.message}`, 1);
  }
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

async function main() {
  const { positional, flags } = parseArgs(process.argv.slice(2));
  const [command, ...rest] = positional;
  const token = process.env.THROUGHLINE_TOKEN;
  if (!token)
    fail(`set THROUGHLINE_TOKEN to an access token (npm run -s token -- demo-ig-officer)\n${USAGE}`);
  const headers = {
    authorization: `Bearer ${token}`,
    'x-purpose': flags.purpose ?? process.env.DEAD_LETTERS_PURPOSE ?? 'data-quality',
  };
  if (command === 'list') {
    if (rest.length > 0) fail(`list takes no positional argument\n${USAGE}`);
    const query = new URLSearchParams();
    if (flags.after !== undefined) query.set('after', flags.after);
    if (flags.limit !== undefined) query.set('limit', flags.limit);
    const suffix = query.size > 0 ? `?${query}` : '';
    const { status, body } = await call('GET', `/v1/dead-letters${suffix}`, headers);
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    process.exit(status === 200 ? 0 : 1);
  }
  if (command === 'payload') {
    if (rest.length !== 1 || !/^\d{1,18}$/.test(rest[0])) fail(`payload needs one dead letter id\n${USAGE}`);
    const { status, body } = await call('GET', `/v1/dead-letters/${rest[0]}/payload`, headers);
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    process.exit(status === 200 ? 0 : 1);
  }
  if (command === 'redrive') {
    if (rest.length !== 1 || !/^\d{1,18}$/.test(rest[0])) fail(`redrive needs one dead letter id\n${USAGE}`);
    const { status, body } = await call('POST', `/v1/dead-letters/${rest[0]}/redrive`, headers);
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    process.exit(status === 200 ? 0 : 1);
  }
  fail(USAGE);
}

await main();
