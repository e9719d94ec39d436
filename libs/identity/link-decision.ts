import { compareDeterministic, type DeterministicComparison } from './deterministic';
import type { LinkMethod } from './events';
import { scoreMatch, shouldPropose, type MatchModel, type MatchScore } from './probabilistic';
import type { SubjectSnapshot } from './subject';

/**
 * The linker's decision for one record whose snapshot changed, as a pure function of the
 * record, its candidates and the judgements already made on pairs (see docs/decisions/005).
 */
export type PairState = 'linked' | 'proposed' | 'rejected' | 'unlinked' | 'conflict';

export interface LinkCandidate {
  readonly snapshot: SubjectSnapshot;
  /** The judgement on the pair (this record, candidate), if any. */
  readonly state?: PairState;
}

export interface LinkContext {
  readonly subject: SubjectSnapshot;
  readonly candidates: readonly LinkCandidate[];
  /** Records already linked to this one, with their snapshots (a new link must not bridge them to a contradiction). */
  readonly partners: readonly SubjectSnapshot[];
  /** Judgement on any pair among candidates and partners (ordered pair key `a|b`, a < b). */
  readonly stateBetween: (a: string, b: string) => PairState | undefined;
  readonly model: MatchModel;
}

type Shared = DeterministicComparison['shared'][number];

export type LinkOutcome =
  | {
      readonly kind: 'link';
      readonly with: string;
      readonly method: LinkMethod;
      readonly shared: readonly Shared[];
    }
  | {
      readonly kind: 'conflict';
      readonly rule:
        'contradicting-identifiers' | 'bridges-contradicting-records' | 'bridges-separated-records';
      readonly others: readonly string[];
      readonly shared: readonly (Shared & { readonly with: string })[];
      readonly conflicts: readonly {
        readonly kind: string;
        readonly values?: readonly [string, string];
        readonly between: readonly [string, string];
      }[];
    }
  | { readonly kind: 'propose'; readonly with: string; readonly score: MatchScore };

const METHOD_OF: Record<Shared['kind'], LinkMethod> = {
  'nhs-number': 'shared-nhs-number',
  upn: 'shared-upn',
  uln: 'shared-uln',
  'la-child-id': 'shared-la-child-id',
};

/** People's decisions stick: the linker never links a pair a person pulled apart. */
const SETTLED: readonly (PairState | undefined)[] = ['linked', 'rejected', 'unlinked', 'conflict'];

export function decideLinks(context: LinkContext): LinkOutcome[] {
  const { subject } = context;
  const outcomes: LinkOutcome[] = [];
  const linkable: { snapshot: SubjectSnapshot; shared: readonly Shared[] }[] = [];

  for (const candidate of context.candidates) {
    const comparison = compareDeterministic(subject, candidate.snapshot);
    const other = candidate.snapshot.streamId;
    if (comparison.shared.length > 0) {
      if (SETTLED.includes(candidate.state)) continue;
      if (comparison.conflicts.length > 0) {
        outcomes.push({
          kind: 'conflict',
          rule: 'contradicting-identifiers',
          others: [other],
          shared: comparison.shared.map((shared) => ({ ...shared, with: other })),
          conflicts: comparison.conflicts.map((conflict) => ({
            kind: conflict.kind,
            values: conflict.values,
            between: [subject.streamId, other],
          })),
        });
      } else {
        linkable.push({ snapshot: candidate.snapshot, shared: comparison.shared });
      }
    } else if (candidate.state === undefined) {
      const score = scoreMatch(subject, candidate.snapshot, context.model, comparison);
      if (shouldPropose(score, context.model)) outcomes.push({ kind: 'propose', with: other, score });
    }
  }

  if (linkable.length === 0) return outcomes;
  // A new link must not join records that contradict each other or that a person separated.
  const group = [...linkable.map((l) => l.snapshot), ...context.partners];
  const newcomers = new Set(linkable.map((l) => l.snapshot.streamId));
  const bridged: {
    rule: 'bridges-contradicting-records' | 'bridges-separated-records';
    kind: string;
    values?: readonly [string, string];
    between: readonly [string, string];
  }[] = [];
  for (let i = 0; i < group.length; i++) {
    for (let j = i + 1; j < group.length; j++) {
      const [x, y] = [group[i], group[j]];
      if (!newcomers.has(x.streamId) && !newcomers.has(y.streamId)) continue;
      if (x.streamId === y.streamId) continue;
      const state = context.stateBetween(x.streamId, y.streamId);
      if (state === 'linked') continue;
      if (state === 'unlinked' || state === 'rejected') {
        bridged.push({ rule: 'bridges-separated-records', kind: state, between: [x.streamId, y.streamId] });
        continue;
      }
      for (const conflict of compareDeterministic(x, y).conflicts) {
        bridged.push({
          rule: 'bridges-contradicting-records',
          kind: conflict.kind,
          values: conflict.values,
          between: [x.streamId, y.streamId],
        });
      }
    }
  }
  if (bridged.length > 0) {
    outcomes.push({
      kind: 'conflict',
      rule: bridged.some((b) => b.rule === 'bridges-separated-records')
        ? 'bridges-separated-records'
        : 'bridges-contradicting-records',
      others: linkable.map((l) => l.snapshot.streamId),
      shared: linkable.flatMap((l) => l.shared.map((shared) => ({ ...shared, with: l.snapshot.streamId }))),
      conflicts: bridged.map(({ kind, values, between }) => ({
        kind,
        ...(values ? { values } : {}),
        between,
      })),
    });
    return outcomes;
  }
  for (const { snapshot, shared } of linkable) {
    outcomes.push({ kind: 'link', with: snapshot.streamId, method: METHOD_OF[shared[0].kind], shared });
  }
  return outcomes;
}
