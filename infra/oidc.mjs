#!/usr/bin/env node
// The local OpenID provider for `npm start`, `npm test` and CI: a real `oidc-provider` (authorization
// code + PKCE with password login for the demo people, client credentials for the demo agency
// systems, JWT access tokens for OIDC_AUDIENCE), never a stub that mints whatever it is asked.
// Its signing keys, cookie keys, demo passwords and client secrets are generated at first start
// into <cache>/oidc/local-provider.json (mode 0600; cache = THROUGHLINE_CACHE or ~/.cache/throughline).
// The demo people and systems are data: infra/oidc-demo.json. See docs/decisions/009.
//
//   node infra/oidc.mjs [serve] [--port N] [--host H]     serve until SIGINT/SIGTERM
//
// As a module: startOidcProvider(options) -> { issuer, port, close() }, ensureOidcProvider(options)
// (reuses a provider already answering at the issuer), localProviderSettings(env), readProviderState(dir),
// resourceIndicatorFor(audience), demoIdentities().
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const INFRA_DIR = path.dirname(fileURLToPath(import.meta.url));
const DEMO_FILE = path.join(INFRA_DIR, 'oidc-demo.json');
const STATE_FILE_NAME = 'local-provider.json';
const STATE_VERSION = 1;

/** Defaults, with their units; the same names and defaults as libs/platform/config.ts. */
const DEFAULTS = Object.freeze({
  port: 3010,
  host: '127.0.0.1',
  audience: 'throughline',
  claimNames: Object.freeze({ userId: 'sub', name: 'name', organisation: 'organisation', roles: 'roles' }),
  accessTokenTtlSeconds: 900,
  sessionTtlSeconds: 8 * 3600,
  interactionTtlSeconds: 600,
  projectionPort: 3000,
  probeTimeoutMs: 2_000,
  maxFormBytes: 4_096,
});

/** The client the `npm run token` script signs in with (public, PKCE, loopback redirect). */
export const CLI_CLIENT_ID = 'throughline-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback';
/** The timeline page's confidential (backend-for-frontend) client. */
export const PAGE_CLIENT_ID = 'throughline-page';
/** Scope of a person's access token at the Throughline API; of an agency system's. */
export const PERSON_SCOPE = 'throughline:api';
export const SYSTEM_SCOPE = 'throughline:publish';

export class OidcProviderError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'OidcProviderError';
  }
}

// ---------------------------------------------------------------------------------------------
// Settings

const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'client_id', 'azp']);

function claimName(env, variable, fallback) {
  const value = (env[variable] ?? '').trim() || fallback;
  if (!/^[A-Za-z0-9_:./-]{1,100}$/.test(value) || (RESERVED_CLAIMS.has(value) && value !== fallback)) {
    throw new OidcProviderError(`${variable}: "${value}" cannot name a claim`);
  }
  return value;
}

export function cacheDirectory(env = process.env) {
  return path.resolve(env.THROUGHLINE_CACHE || path.join(os.homedir(), '.cache', 'throughline'));
}

/** The provider's settings from the same variables the apps read (OIDC_*, PROJECTION_PORT, THROUGHLINE_CACHE). */
export function localProviderSettings(env = process.env) {
  const port = Number(env.OIDC_PORT || DEFAULTS.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new OidcProviderError(`OIDC_PORT: "${env.OIDC_PORT}"`);
  const issuer = (env.OIDC_ISSUER || `http://${DEFAULTS.host}:${port}`).replace(/\/+$/, '');
  return {
    issuer,
    port,
    audience: (env.OIDC_AUDIENCE || DEFAULTS.audience).trim(),
    claimNames: {
      userId: claimName(env, 'OIDC_CLAIM_USER_ID', DEFAULTS.claimNames.userId),
      name: claimName(env, 'OIDC_CLAIM_NAME', DEFAULTS.claimNames.name),
      organisation: claimName(env, 'OIDC_CLAIM_ORGANISATION', DEFAULTS.claimNames.organisation),
      roles: claimName(env, 'OIDC_CLAIM_ROLES', DEFAULTS.claimNames.roles),
    },
    projectionPort: Number(env.PROJECTION_PORT || DEFAULTS.projectionPort),
    pageOrigins: pageOriginsOf(env),
    stateDir: path.join(cacheDirectory(env), 'oidc'),
  };
}

/**
 * Where the timeline page is served, so the page client's redirect (`<origin>/auth/callback`) is
 * accepted: the projection on this machine (127.0.0.1 and localhost at PROJECTION_PORT) and
 * PAGE_ORIGIN when set (the same variable the projection reads; tests that serve the page on a
 * port of their own set PROJECTION_PORT or PAGE_ORIGIN for the provider they start).
 */
function pageOriginsOf(env) {
  const port = Number(env.PROJECTION_PORT || DEFAULTS.projectionPort);
  const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const configured = (env.PAGE_ORIGIN ?? '').trim();
  if (configured) {
    let origin;
    try {
      origin = new URL(configured).origin;
    } catch {
      throw new OidcProviderError(`PAGE_ORIGIN: "${configured}" is not a URL`);
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
}

/**
 * RFC 8707 wants the `resource` parameter to be an absolute URI; an audience such as `throughline`
 * is not one, so it travels as `urn:throughline:audience:<audience>`. The token's `aud` is the audience.
 */
export function resourceIndicatorFor(audience) {
  return /^(https?|urn):/i.test(audience) ? audience : `urn:throughline:audience:${audience}`;
}

/** True when a URL names this machine (only such an issuer is run locally). */
export function isLoopbackUrl(url) {
  const { hostname, protocol } = new URL(url);
  return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname);
}

export function demoIdentities() {
  return JSON.parse(fs.readFileSync(DEMO_FILE, 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Generated state: keys, cookie keys, passwords, client secrets (0600, outside git)

function thumbprint(jwk) {
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' };
}

const secret = (bytes = 24) => crypto.randomBytes(bytes).toString('base64url');

function completeState(state, demo) {
  const next = {
    version: STATE_VERSION,
    createdAt: state?.createdAt ?? new Date().toISOString(),
    jwks: state?.jwks ?? {
      keys: [
        signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
        signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
      ],
    },
    cookieKeys: state?.cookieKeys ?? [secret(32)],
    passwords: { ...state?.passwords },
    clientSecrets: { ...state?.clientSecrets },
  };
  for (const user of demo.users) next.passwords[user.username] ??= secret(12);
  for (const clientId of [PAGE_CLIENT_ID, ...demo.systems.map((system) => system.clientId)])
    next.clientSecrets[clientId] ??= secret(32);
  return next;
}

function writePrivate(file, value) {
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return temporary;
}

/**
 * The provider's generated state in `stateDir`, created on first use. Two processes starting
 * together agree: the first file to be linked into place wins and the other reads it.
 */
export function readProviderState(stateDir, demo = demoIdentities()) {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, STATE_FILE_NAME);
  let state = null;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code !== 'ENOENT') throw new OidcProviderError(`cannot read ${file}: ${error.message}`);
  }
  if (state === null) {
    const temporary = writePrivate(file, completeState(null, demo));
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  const completed = completeState(state, demo);
  if (JSON.stringify(completed) !== JSON.stringify(state)) {
    // A person or system added to oidc-demo.json since: give it a password or secret too.
    fs.renameSync(writePrivate(file, completed), file);
    state = completed;
  }
  fs.chmodSync(file, 0o600);
  return { ...state, file };
}

// ---------------------------------------------------------------------------------------------
// Interactions: the sign-in and consent pages

const escapeHtml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

function pageHtml(title, body) {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto}label,input,button{display:block;margin:.4rem 0}</style>' +
    `</head><body><h1>${escapeHtml(title)}</h1><p>Throughline local OpenID provider (synthetic demo identities only).</p>${body}</body></html>`
  );
}

function page(res, status, title, body) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(pageHtml(title, body));
}

function loginForm(res, uid, { status = 200, username = '', message = '' } = {}) {
  page(
    res,
    status,
    'Sign in',
    `${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}` +
      `<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">` +
      `<label>User <input name="login" value="${escapeHtml(username)}" required></label>` +
      '<label>Password <input name="password" type="password" required></label>' +
      '<button type="submit">Sign in</button></form>',
  );
}

function consentForm(res, uid, clientId, scopes) {
  page(
    res,
    200,
    'Allow access',
    `<p>${escapeHtml(clientId)} asks for: ${escapeHtml(scopes.join(' '))}</p>` +
      `<form method="post" action="/interaction/${escapeHtml(uid)}/confirm"><button type="submit">Allow</button></form>` +
      `<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Deny</button></form>`,
  );
}

async function readForm(req, maxBytes) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBytes) throw new OidcProviderError('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const digest = (text) => crypto.createHash('sha256').update(text, 'utf8').digest();

/** Constant-time password check (every demo user is compared, so timing says nothing about which). */
function authenticate(passwords, username, password) {
  const presented = digest(`${username}\u0000${password}`);
  let found = null;
  for (const [name, expected] of Object.entries(passwords)) {
    if (crypto.timingSafeEqual(digest(`${name}\u0000${expected}`), presented)) found ??= name;
  }
  return found;
}

async function handleInteraction(provider, state, req, res, [uid, action]) {
  if (req.method === 'GET' && action === undefined) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid)
      return page(res, 400, 'Sign-in expired', '<p>Start again from the application.</p>');
    if (details.prompt.name === 'login') return loginForm(res, uid);
    const missing = [
      ...(details.prompt.details.missingOIDCScope ?? []),
      ...Object.values(details.prompt.details.missingResourceScopes ?? {}).flat(),
    ];
    return consentForm(res, uid, details.params.client_id, missing);
  }
  if (req.method !== 'POST') return page(res, 405, 'Not allowed', '');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid)
    return page(res, 400, 'Sign-in expired', '<p>Start again from the application.</p>');
  switch (action) {
    case 'login': {
      if (details.prompt.name !== 'login') return page(res, 400, 'Unexpected step', '');
      const form = await readForm(req, DEFAULTS.maxFormBytes);
      const username = form.get('login') ?? '';
      const accountId = authenticate(state.passwords, username, form.get('password') ?? '');
      if (!accountId)
        return loginForm(res, uid, { status: 401, username, message: 'Unknown user or wrong password.' });
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId } },
        { mergeWithLastSubmission: false },
      );
    }
    case 'confirm': {
      if (details.prompt.name !== 'consent') return page(res, 400, 'Unexpected step', '');
      const { prompt, params, session } = details;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {}))
        grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    }
    case 'abort':
      return provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'the user refused' },
        { mergeWithLastSubmission: false },
      );
    default:
      return page(res, 404, 'Not found', '');
  }
}

// ---------------------------------------------------------------------------------------------
// The provider

function setClaim(target, name, value) {
  if (value !== undefined) target[name] = value;
  return target;
}

function configuration({ settings, state, demo, errors }) {
  const { claimNames, audience } = settings;
  const users = new Map(demo.users.map((user) => [user.username, user]));
  const systems = new Map(demo.systems.map((system) => [system.clientId, system]));
  const resource = resourceIndicatorFor(audience);

  /** A person's claims under the configured names (the claims mapping the apps read them by). */
  const personClaims = (user) => {
    const claims = {};
    if (claimNames.userId !== 'sub') setClaim(claims, claimNames.userId, user.username);
    setClaim(claims, claimNames.name, user.name);
    setClaim(claims, claimNames.organisation, user.organisation);
    setClaim(claims, claimNames.roles, user.roles);
    return claims;
  };
  const systemClaims = (system) =>
    setClaim(
      setClaim(
        {
          agency: system.agency,
          publisher_id: system.publisherId,
          source_systems: system.sourceSystems,
          organisation_codes: system.organisationCodes,
        },
        claimNames.organisation,
        system.organisation,
      ),
      claimNames.roles,
      system.roles,
    );

  const pageOrigins = settings.pageOrigins ?? pageOriginsOf({ PROJECTION_PORT: settings.projectionPort });
  return {
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        client_name: 'npm run token',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [CLI_REDIRECT_URI],
      },
      {
        client_id: PAGE_CLIENT_ID,
        client_name: 'Throughline timeline page',
        client_secret: state.clientSecrets[PAGE_CLIENT_ID],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: pageOrigins.map((origin) => `${origin}/auth/callback`),
        post_logout_redirect_uris: pageOrigins.map((origin) => `${origin}/`),
      },
      ...demo.systems.map((system) => ({
        client_id: system.clientId,
        client_name: system.agency ? `${system.agency} system ${system.publisherId}` : system.clientId,
        client_secret: state.clientSecrets[system.clientId],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    async findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...personClaims(user) }) };
    },
    claims: {
      openid: ['sub'],
      profile: [...new Set([claimNames.name, claimNames.organisation, claimNames.roles])],
    },
    scopes: ['openid', 'offline_access', 'profile'],
    // The page's server keeps its session alive with a refresh token (rotated on each use) without
    // asking for offline_access, which this provider grants only with prompt=consent.
    async issueRefreshToken(_ctx, client, code) {
      return (
        client.grantTypeAllowed('refresh_token') &&
        (client.clientId === PAGE_CLIENT_ID || code.scopes.has('offline_access'))
      );
    },
    features: {
      devInteractions: { enabled: false },
      // The page's sign-out ends the person's session here too (RP-initiated logout), on pages
      // in this provider's own plain style.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = pageHtml(
            'Sign out',
            `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>` +
              '<button type="submit" form="op.logoutForm">No, stay signed in</button>',
          );
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = pageHtml('Signed out', '<p>You are signed out.</p>');
        },
      },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator, client) {
          if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: systems.has(client.clientId) ? SYSTEM_SCOPE : PERSON_SCOPE,
            audience,
            accessTokenTTL: DEFAULTS.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const system = systems.get(token.clientId);
        return system ? systemClaims(system) : undefined;
      }
      const user = token.accountId ? users.get(token.accountId) : undefined;
      return user ? personClaims(user) : undefined;
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    jwks: state.jwks,
    cookies: { keys: state.cookieKeys },
    ttl: {
      AccessToken: DEFAULTS.accessTokenTtlSeconds,
      ClientCredentials: DEFAULTS.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: DEFAULTS.accessTokenTtlSeconds,
      RefreshToken: DEFAULTS.sessionTtlSeconds,
      Interaction: DEFAULTS.interactionTtlSeconds,
      Session: DEFAULTS.sessionTtlSeconds,
      Grant: DEFAULTS.sessionTtlSeconds,
    },
  };
}

function listenOn(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address().port);
    });
  });
}

/**
 * Starts the provider. With `port` (0 picks a free one) it listens on `host` (default 127.0.0.1)
 * and its issuer is built from the port it got; without, it serves `issuer` (OIDC_ISSUER, default
 * http://127.0.0.1:<OIDC_PORT>) on that URL's host and port. Other fields override localProviderSettings().
 */
export async function startOidcProvider(overrides = {}) {
  const settings = { ...localProviderSettings(), ...overrides };
  const log = overrides.log ?? ((line) => process.stderr.write(`[oidc] ${line}\n`));
  let host = overrides.host ?? DEFAULTS.host;
  let wantedPort = overrides.port;
  let fixedIssuer = null;
  if (wantedPort === undefined) {
    const url = new URL(settings.issuer);
    if (url.protocol !== 'http:' || url.pathname !== '/')
      throw new OidcProviderError(
        `the local provider serves http://host:port issuers only, not ${settings.issuer}`,
      );
    host = overrides.host ?? url.hostname.replace(/^\[|\]$/g, '');
    wantedPort = Number(url.port || 80);
    fixedIssuer = settings.issuer;
  }
  const demo = demoIdentities();
  const state = readProviderState(settings.stateDir, demo);
  const { default: Provider, errors } = await import('oidc-provider');

  let handler = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  let port;
  try {
    port = await listenOn(server, wantedPort, host);
  } catch (error) {
    throw new OidcProviderError(`cannot listen on ${host}:${wantedPort}: ${error.message}`, { cause: error });
  }
  const issuer = fixedIssuer ?? `http://${host}:${port}`;
  const provider = new Provider(
    issuer,
    configuration({ settings: { ...settings, issuer }, state, demo, errors }),
  );
  provider.on('server_error', (_ctx, error) => log(`server error: ${error.stack ?? error.message}`));
  const callback = provider.callback();
  handler = (req, res) => {
    const { pathname } = new URL(req.url ?? '/', issuer);
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/.exec(pathname);
    if (!interaction) return callback(req, res);
    handleInteraction(provider, state, req, res, [interaction[1], interaction[2]]).catch((error) => {
      log(`interaction failed: ${error.message}`);
      if (!res.headersSent) page(res, 400, 'Sign-in failed', `<p>${escapeHtml(error.message)}</p>`);
      else res.end();
    });
  };
  log(`OpenID provider at ${issuer} (audience ${settings.audience}; generated secrets in ${state.file})`);
  return {
    issuer,
    port,
    stateFile: state.file,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The issuer's discovery document, or null when nothing (or something else) answers there. */
export async function probeIssuer(issuer, timeoutMs = DEFAULTS.probeTimeoutMs) {
  try {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return null;
    const document = await response.json();
    return document.issuer === issuer ? document : null;
  } catch {
    return null;
  }
}

/**
 * A provider at the configured issuer: one already answering there is reused (and left running);
 * otherwise, for a loopback issuer, one is started in this process. A non-loopback issuer is a
 * deployment's own identity provider: nothing is started.
 */
export async function ensureOidcProvider(overrides = {}) {
  const settings = { ...localProviderSettings(), ...overrides };
  const log = overrides.log ?? ((line) => process.stderr.write(`[oidc] ${line}\n`));
  if (await probeIssuer(settings.issuer))
    return { issuer: settings.issuer, startedHere: false, stateDir: settings.stateDir, stop: async () => {} };
  if (!isLoopbackUrl(settings.issuer)) {
    log(`OIDC_ISSUER ${settings.issuer} is not answering; it is not local, so nothing is started here`);
    return { issuer: settings.issuer, startedHere: false, external: true, stop: async () => {} };
  }
  const running = await startOidcProvider({ ...overrides, log });
  return { ...running, startedHere: true, stateDir: settings.stateDir, stop: running.close };
}

// ---------------------------------------------------------------------------------------------
// Command line

async function main(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 1) {
    const argument = argv[i];
    if (argument === 'serve') continue;
    if (argument === '--port') options.port = Number(argv[++i]);
    else if (argument === '--host') options.host = argv[++i];
    else
      throw new OidcProviderError(
        `unknown argument ${argument}; usage: node infra/oidc.mjs [serve] [--port N] [--host H]`,
      );
  }
  const running = await startOidcProvider(options);
  // One machine-readable line for whoever started us (tests wait for it).
  process.stdout.write(`@@oidc-ready ${JSON.stringify({ issuer: running.issuer, port: running.port })}\n`);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void running.close().then(() => process.exit(0));
    });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`[oidc] ${error.message}\n`);
    process.exit(1);
  });
}
