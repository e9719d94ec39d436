import type { DomainRef, FrameworkDocument } from './framework-document';
import type { ReadEntry } from './entry-reading';

const key = (ref: DomainRef): string => `${ref.framework}/${ref.domain}`;

/**
 * Which domains of one framework an entry is evidence about, from a framework document:
 * 1. the domains the entry itself names in that framework (an observation's own, the envelope's
 *    outcomeDomains; a decision's expected outcomes; a review's findings; a views-differ's domain);
 * 2. the domains linked to those by `alsoEvidenceFor`, either way round (Signs of Safety `safety`
 *    is Every Child Matters `stay-safe`; a Vale domain evidencing `enjoy-and-achieve` is found
 *    from a declared `enjoy-and-achieve`);
 * 3. only when 1 and 2 give nothing in the framework: the document's mapping of the entry's type.
 */
export class DomainResolver {
  private readonly related = new Map<string, DomainRef[]>();
  private readonly known = new Set<string>();
  /** Entries are read afresh per request, so an entry object's answers are kept only as long as it is. */
  private readonly answers = new WeakMap<ReadEntry, Map<string, readonly string[]>>();

  constructor(private readonly document: FrameworkDocument) {
    for (const framework of document.frameworks)
      for (const domain of framework.domains) {
        const own = { framework: framework.id, domain: domain.id };
        this.known.add(key(own));
        for (const other of domain.alsoEvidenceFor) {
          this.link(own, other);
          this.link(other, own);
        }
      }
  }

  /** The domain ids of `framework` the entry is evidence about. */
  domainsOf(entry: ReadEntry, framework: string): readonly string[] {
    let byFramework = this.answers.get(entry);
    if (!byFramework) {
      byFramework = new Map();
      this.answers.set(entry, byFramework);
    }
    let domains = byFramework.get(framework);
    if (!domains) {
      domains = this.resolve(entry, framework);
      byFramework.set(framework, domains);
    }
    return domains;
  }

  private resolve(entry: ReadEntry, framework: string): string[] {
    const named = namedDomainsOf(entry);
    const found = new Set<string>();
    for (const ref of named) {
      if (ref.framework === framework && this.known.has(key(ref))) found.add(ref.domain);
      for (const other of this.related.get(key(ref)) ?? [])
        if (other.framework === framework) found.add(other.domain);
    }
    if (found.size === 0)
      for (const ref of this.document.mapping[entry.type] ?? [])
        if (ref.framework === framework) found.add(ref.domain);
    return [...found];
  }

  private link(from: DomainRef, to: DomainRef): void {
    const list = this.related.get(key(from)) ?? [];
    if (!list.some((ref) => key(ref) === key(to))) list.push(to);
    this.related.set(key(from), list);
  }
}

function namedDomainsOf(entry: ReadEntry): DomainRef[] {
  const refs: DomainRef[] = [...entry.declared];
  for (const expected of entry.decision?.expectedOutcomes ?? []) refs.push(expected);
  for (const found of entry.review?.againstExpected ?? []) refs.push(found);
  const differ = entry.viewsDiffer;
  if (differ?.framework && differ.domain) refs.push({ framework: differ.framework, domain: differ.domain });
  return refs;
}

const resolvers = new WeakMap<FrameworkDocument, DomainResolver>();

/** One resolver per document version (documents are replaced, never changed in place). */
export function domainResolverOf(document: FrameworkDocument): DomainResolver {
  let resolver = resolvers.get(document);
  if (!resolver) {
    resolver = new DomainResolver(document);
    resolvers.set(document, resolver);
  }
  return resolver;
}

/** Plain code-unit order: ids and ISO dates need no locale (and localeCompare is slow). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byDateThenPosition(
  a: { readonly date: string; readonly position: number },
  b: { readonly date: string; readonly position: number },
): number {
  return compareText(a.date, b.date) || a.position - b.position;
}
