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
import { FRAMEWORK_DOCUMENT, type FrameworkDocument } from './framework-document';

/** The outcomes context's one table (framework versions), append-only for the apps' role. */
export async function migrateOutcomes(pool: Pool, options: { appRole?: string } = {}): Promise<number[]> {
  return migrate(pool, 'outcomes', readMigrations(migrationsDirectory('outcomes')), options);
}

/** A framework document checked against the schema: a 400 naming every broken field and rule. */
export function parseFrameworkDocument(document: unknown, where = 'frameworks'): FrameworkDocument {
  const parsed = FRAMEWORK_DOCUMENT.safeParse(document);
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path ? `${where}.${issue.path}` : where,
  }));
  throw new ValidationError(
    `the outcome frameworks are not valid: ${issues
      .slice(0, 5)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join('; ')}`,
    issues,
  );
}

export interface FrameworkSnapshot {
  readonly version: number;
  readonly document: FrameworkDocument;
}

/** In force before any document was loaded: one framework, nothing mapped. */
const EMPTY: FrameworkDocument = {
  title: 'no outcome frameworks loaded',
  frameworks: [
    {
      id: 'none',
      name: 'No framework loaded',
      source: 'none',
      domains: [{ id: 'none', label: 'No domain', alsoEvidenceFor: [] }],
      scales: [],
    },
  ],
  scales: [],
  mapping: {},
};

export interface FrameworkVersionView extends DocumentVersion {
  readonly title: string;
  readonly frameworks: readonly string[];
}

export interface FrameworkStoreOptions {
  /** Loaded as version 1 when the store holds none yet (OUTCOME_FRAMEWORKS_FILE). */
  readonly seedFile?: string;
  /** How often another instance's change is picked up (ms; OUTCOME_FRAMEWORKS_REFRESH_MS). */
  readonly refreshMs?: number;
}

type Summary = Pick<FrameworkVersionView, 'title' | 'frameworks'>;

const FRAMEWORK_VERSIONS: VersionedDocumentKind<FrameworkDocument, Summary> = {
  table: 'outcome_framework_versions',
  seedSetting: 'OUTCOME_FRAMEWORKS_FILE',
  parse: parseFrameworkDocument,
  empty: EMPTY,
  summarise: (document) => ({ title: document.title, frameworks: document.frameworks.map((f) => f.id) }),
};

/**
 * The outcome frameworks' versions (outcome_framework_versions, append-only), the highest in
 * force, held in memory and refreshed every `refreshMs` so a change made through one instance
 * reaches all of them without a deploy: the same VersionedDocuments as the access policy.
 */
export class FrameworkStore {
  private constructor(private readonly versions: VersionedDocuments<FrameworkDocument, Summary>) {}

  /** Seeds an empty store from `seedFile` and loads the version in force (migrateOutcomes first). */
  static async open(pool: Pool, options: FrameworkStoreOptions = {}): Promise<FrameworkStore> {
    return new FrameworkStore(await VersionedDocuments.open(pool, FRAMEWORK_VERSIONS, options));
  }

  current(): FrameworkSnapshot {
    return this.versions.current();
  }

  refresh(): Promise<FrameworkSnapshot> {
    return this.versions.refresh();
  }

  /** Stores version n+1 (checked first: an invalid document changes nothing) and puts it in force here. */
  replace(
    document: unknown,
    by: { readonly userId: string; readonly organisation?: string; readonly reason: string },
  ): Promise<FrameworkVersionView> {
    return this.versions.replace(document, by);
  }

  history(): Promise<FrameworkVersionView[]> {
    return this.versions.history();
  }

  close(): void {
    this.versions.close();
  }
}
