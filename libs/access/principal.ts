import { AGENCY_NAMES, type Agency } from '@throughline/contracts';
import { ThroughlineError, type Config } from '@throughline/platform';

/** Which claim carries what (configuration: OIDC_CLAIM_*). */
export interface ClaimsMapping {
  readonly userId: string;
  readonly name: string;
  readonly organisation: string;
  readonly roles: string;
}

export function claimsMappingOf(config: Config): ClaimsMapping {
  return {
    userId: config.OIDC_CLAIM_USER_ID,
    name: config.OIDC_CLAIM_NAME,
    organisation: config.OIDC_CLAIM_ORGANISATION,
    roles: config.OIDC_CLAIM_ROLES,
  };
}

export interface Organisation {
  /** LA code, ODS code, school URN… */
  readonly code: string;
  /** e.g. `local-authority`, `health`, `school`; absent when the provider gives a bare code. */
  readonly type?: string;
  readonly name?: string;
}

/**
 * Who is calling, from a verified access token: a person (authorization code) or an agency system
 * (client credentials, RFC 9068: its `sub` is its client id).
 */
export interface Principal {
  readonly kind: 'person' | 'system';
  readonly userId: string;
  readonly name?: string;
  /** Required for a person (policy decides by it); a system's own organisation when its token names one. */
  readonly organisation?: Organisation;
  readonly roles: readonly string[];
  /** The OAuth client the token was issued to (`client_id`, else `azp`). */
  readonly clientId?: string;
  /** Agency systems only: the agency, publisher and what it may publish for. */
  readonly agency?: Agency;
  readonly publisherId?: string;
  readonly sourceSystems?: readonly string[];
  readonly organisationCodes?: readonly string[];
}

const unauthenticated = (reason: string): ThroughlineError =>
  new ThroughlineError('UNAUTHENTICATED', `access token refused: ${reason}`, { details: { reason } });

/** A claim value we keep: 1..200 characters, none of them a control character. */
const TEXT_LENGTH = { min: 1, max: 200 };

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' &&
    value.length >= TEXT_LENGTH.min &&
    value.length <= TEXT_LENGTH.max &&
    !hasControlCharacter(value)
    ? value
    : undefined;
}

function textList(value: unknown, claim: string): string[] | undefined {
  if (value === undefined) return undefined;
  // Some providers send one role as a string, or space-separated like `scope`.
  const items = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
  if (!Array.isArray(items) || items.length > 200 || items.some((item) => text(item) === undefined))
    throw unauthenticated(`claim "${claim}" must be a list of strings`);
  return items as string[];
}

function organisationOf(value: unknown, claim: string): Organisation | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    if (!text(value)) throw unauthenticated(`claim "${claim}" is not an organisation code`);
    return { code: value };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw unauthenticated(`claim "${claim}" must be an organisation code or { code, type }`);
  const { code, type, name } = value as Record<string, unknown>;
  if (!text(code)) throw unauthenticated(`claim "${claim}" has no organisation code`);
  return {
    code: code as string,
    ...(text(type) ? { type: type as string } : {}),
    ...(text(name) ? { name: name as string } : {}),
  };
}

/**
 * The principal a verified token's claims describe, read through the claims mapping. Refuses a
 * token without a subject, and a person's token without an organisation: policy decides by both.
 */
export function principalOf(claims: Readonly<Record<string, unknown>>, mapping: ClaimsMapping): Principal {
  const sub = text(claims.sub);
  if (!sub) throw unauthenticated('missing "sub" (subject) claim');
  const clientId = text(claims.client_id) ?? text(claims.azp);
  // RFC 9068 section 2.2: a client-credentials token's subject is the client itself.
  const kind = clientId !== undefined && sub === clientId ? 'system' : 'person';
  const userId = kind === 'system' ? sub : text(claims[mapping.userId]);
  if (!userId) throw unauthenticated(`missing user id claim "${mapping.userId}"`);
  const organisation = organisationOf(claims[mapping.organisation], mapping.organisation);
  if (kind === 'person' && !organisation)
    throw unauthenticated(`missing organisation claim "${mapping.organisation}"`);
  const roles = textList(claims[mapping.roles], mapping.roles) ?? [];
  const name = text(claims[mapping.name]);
  const principal: Principal = {
    kind,
    userId,
    roles,
    ...(name ? { name } : {}),
    ...(organisation ? { organisation } : {}),
    ...(clientId ? { clientId } : {}),
  };
  if (kind === 'person') return principal;
  const agency = claims.agency;
  if (agency !== undefined && !AGENCY_NAMES.includes(agency as Agency))
    throw unauthenticated(`claim "agency" must be one of ${AGENCY_NAMES.join(', ')}`);
  const publisherId = claims.publisher_id === undefined ? undefined : text(claims.publisher_id);
  if (claims.publisher_id !== undefined && !publisherId)
    throw unauthenticated('claim "publisher_id" must be a string');
  const sourceSystems = textList(claims.source_systems, 'source_systems');
  const organisationCodes = textList(claims.organisation_codes, 'organisation_codes');
  return {
    ...principal,
    ...(agency ? { agency: agency as Agency } : {}),
    ...(publisherId ? { publisherId } : {}),
    ...(sourceSystems ? { sourceSystems } : {}),
    ...(organisationCodes ? { organisationCodes } : {}),
  };
}
