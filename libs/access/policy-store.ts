import type { Pool } from 'pg';
import { toContractIssues } from '@throughline/contracts';
import {
  migrate,
  migrationsDirectory,
  readMigrations,
  ValidationError,
  VersionedDocuments,
  type DocumentVersion,
  type VersionedDocumentKind,
} from '@throughline/platform';
import { ACCESS_POLICY, type AccessPolicy } from './policy-document';
import type { PolicySnapshot } from './policy';

/**
 * The access context's tables (policy versions, break-glass grants), migrated on the owner's
 * pool. It names no grants: the apps' role keeps the baseline, SELECT and INSERT, so both
 * tables are append-only for the apps.
 */
export async function migrateAccess(pool: Pool, options: { appRole?: string } = {}): Promise<number[]> {
  return migrate(pool, 'access', readMigrations(migrationsDirectory('access')), options);
}

/** A policy document checked against the schema: a 400 naming every broken field and rule. */
export function parseAccessPolicy(document: unknown, where = 'policy'): AccessPolicy {
  const parsed = ACCESS_POLICY.safeParse(document);
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path ? `${where}.${issue.path}` : where,
  }));
  throw new ValidationError(
    `the access policy is not valid: ${issues
      .slice(0, 5)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join('; ')}`,
    issues,
  );
}

/** The policy in force when none was ever loaded: nothing is granted. */
const EMPTY_POLICY: AccessPolicy = {
  title: 'no policy loaded: nothing is granted',
  purposes: [{ id: 'none', label: 'no policy loaded', identifiable: false }],
  roles: [],
  eventCategories: {},
  agreements: [],
};

export interface PolicyVersionView extends DocumentVersion {
  readonly title: string;
  readonly agreements: number;
}

export interface AccessPolicyStoreOptions {
  /** Loaded as version 1 when the store holds no policy yet (ACCESS_POLICY_FILE). */
  readonly seedFile?: string;
  /** How often another instance's change is picked up (ms). */
  readonly refreshMs?: number;
}

const ACCESS_POLICY_VERSIONS: VersionedDocumentKind<
  AccessPolicy,
  Pick<PolicyVersionView, 'title' | 'agreements'>
> = {
  table: 'access_policy_versions',
  seedSetting: 'ACCESS_POLICY_FILE',
  parse: parseAccessPolicy,
  empty: EMPTY_POLICY,
  summarise: (policy) => ({ title: policy.title, agreements: policy.agreements.length }),
};

/**
 * The access policy's versions in PostgreSQL (access_policy_versions, append-only). The highest
 * version is in force; it is held in memory and refreshed every `refreshMs`, so a change made
 * through one instance reaches every instance without a deploy or a restart (VersionedDocuments).
 */
export class AccessPolicyStore {
  private constructor(
    private readonly versions: VersionedDocuments<
      AccessPolicy,
      Pick<PolicyVersionView, 'title' | 'agreements'>
    >,
  ) {}

  /** Seeds an empty store from `seedFile` and loads the version in force (migrateAccess first). */
  static async open(pool: Pool, options: AccessPolicyStoreOptions = {}): Promise<AccessPolicyStore> {
    return new AccessPolicyStore(await VersionedDocuments.open(pool, ACCESS_POLICY_VERSIONS, options));
  }

  /** The policy in force now (version 0, granting nothing, until one is loaded). */
  current(): PolicySnapshot {
    return this.versions.current();
  }

  refresh(): Promise<PolicySnapshot> {
    return this.versions.refresh();
  }

  /**
   * Stores a new version (checked first: an invalid document changes nothing) and puts it in
   * force here at once. Versions are numbered under a lock, so two changes never share one.
   */
  replace(
    document: unknown,
    by: { readonly userId: string; readonly organisation?: string; readonly reason: string },
  ): Promise<PolicyVersionView> {
    return this.versions.replace(document, by);
  }

  history(): Promise<PolicyVersionView[]> {
    return this.versions.history();
  }

  close(): void {
    this.versions.close();
  }
}
