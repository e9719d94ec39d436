#!/usr/bin/env node
// `npm run -s token -- <demo-user | agency-system>` prints ONLY an access token, obtained from the
// local OpenID provider (infra/oidc.mjs) by a real grant:
//   - a demo person: authorization code + PKCE, signing in through the provider's own login and
//     consent pages over HTTP with the password generated for that user (openid-client does the
//     OAuth side; this script plays the browser);
//   - an agency system: client credentials with the secret generated for that client.
// The passwords and secrets are read from <cache>/oidc/local-provider.json (THROUGHLINE_CACHE).
//
//   TOKEN=$(npm run -s token -- demo-social-worker)
//   curl -H "authorization: Bearer $TOKEN" ...
import * as client from 'openid-client';
import {
  CLI_CLIENT_ID,
  CLI_REDIRECT_URI,
  demoIdentities,
  localProviderSettings,
  PERSON_SCOPE,
  probeIssuer,
  readProviderState,
  resourceIndicatorFor,
  SYSTEM_SCOPE,
} from '../infra/oidc.mjs';

/** Redirects and pages one sign-in may take before we give up. */
const MAX_STEPS = 12;
const REQUEST_TIMEOUT_MS = 10_000;

class TokenError extends Error {}

/** The browser part: a cookie jar and manual redirects, only ever towards the issuer. */
class Browser {
  cookies = new Map();

  constructor(issuer) {
    this.origin = new URL(issuer).origin;
  }

  async request(url, init = {}) {
    const target = new URL(url, this.origin);
    if (target.origin !== this.origin)
      throw new TokenError(`refusing to follow a redirect to ${target.origin}`);
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, ...(cookie ? { cookie } : {}) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

function formAction(html, kind) {
  const match = new RegExp(`action="(/interaction/[A-Za-z0-9_-]+/${kind})"`).exec(html);
  return match?.[1];
}

/** Drives the provider's pages from the authorization URL to the redirect carrying the code. */
async function signIn(issuer, authorizationUrl, username, password) {
  const browser = new Browser(issuer);
  let response = await browser.request(authorizationUrl);
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      if (location.startsWith(CLI_REDIRECT_URI)) return new URL(location);
      response = await browser.request(location);
      continue;
    }
    const html = await response.text();
    if (response.status === 401) throw new TokenError(`the provider refused the password of ${username}`);
    const login = formAction(html, 'login');
    const confirm = formAction(html, 'confirm');
    if (login) {
      response = await browser.request(login, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: username, password }).toString(),
      });
    } else if (confirm) {
      response = await browser.request(confirm, { method: 'POST' });
    } else {
      throw new TokenError(`unexpected answer ${response.status} from the provider: ${html.slice(0, 300)}`);
    }
  }
  throw new TokenError(`no authorization code after ${MAX_STEPS} steps`);
}

async function personToken(settings, issuer, username, password) {
  const configuration = await client.discovery(new URL(issuer), CLI_CLIENT_ID, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(configuration, {
    redirect_uri: CLI_REDIRECT_URI,
    scope: `openid profile ${PERSON_SCOPE}`,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    resource: resourceIndicatorFor(settings.audience),
  });
  const callback = await signIn(issuer, authorizationUrl, username, password);
  const tokens = await client.authorizationCodeGrant(configuration, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
  });
  return tokens.access_token;
}

async function systemToken(settings, issuer, clientId, clientSecret) {
  const configuration = await client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  const tokens = await client.clientCredentialsGrant(configuration, {
    scope: SYSTEM_SCOPE,
    resource: resourceIndicatorFor(settings.audience),
  });
  return tokens.access_token;
}

function usage(demo) {
  return (
    'usage: npm run -s token -- <name>\n' +
    `  demo people (authorization code + PKCE): ${demo.users.map((user) => user.username).join(', ')}\n` +
    `  agency systems (client credentials):     ${demo.systems.map((system) => system.clientId).join(', ')}`
  );
}

async function main(argv) {
  const demo = demoIdentities();
  const name = argv.find((argument) => !argument.startsWith('-'));
  if (!name || argv.includes('--help')) throw new TokenError(usage(demo));
  const user = demo.users.find((candidate) => candidate.username === name);
  const system = demo.systems.find((candidate) => candidate.clientId === name);
  if (!user && !system) throw new TokenError(`unknown demo user or system "${name}"\n${usage(demo)}`);

  const settings = localProviderSettings();
  const issuer = settings.issuer;
  if (!(await probeIssuer(issuer))) {
    throw new TokenError(
      `no OpenID provider answers at ${issuer} (OIDC_ISSUER): start one with \`npm start\` or \`node infra/oidc.mjs\``,
    );
  }
  const state = readProviderState(settings.stateDir, demo);
  const token = user
    ? await personToken(settings, issuer, user.username, state.passwords[user.username])
    : await systemToken(settings, issuer, system.clientId, state.clientSecrets[system.clientId]);
  if (typeof token !== 'string' || token.length === 0)
    throw new TokenError('the provider answered without an access token');
  process.stdout.write(`${token}\n`);
}

main(process.argv.slice(2)).catch((error) => {
  const message = error instanceof TokenError ? error.message : `token: ${error.stack ?? error.message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
