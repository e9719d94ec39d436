/**
 * Answers already derived, as JSON, by everything they are derived from (decision 015): the
 * framework document's version, the query, the child's key and date of birth, and the
 * positions of the entries this reader may see. An entry's content never changes at its
 * position (timeline_entries is append-only in store order), so the same key is the same
 * answer; an entry recorded since, a policy that shows this reader more or less, a new
 * framework version or another day (for decisions) is another key. The access decision and
 * the access record are made on every read before the cache is asked; only the derivation and
 * its serialisation are saved. Least recently used answers go first past `maxBytes`
 * (OUTCOMES_ANSWER_CACHE_MB; 0 turns it off).
 */
export class AnswerCache {
  private readonly answers = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The key of one derivation: its kind and inputs, then every visible entry's position. */
  static keyOf(parts: readonly (string | number | undefined)[], positions: readonly number[]): string {
    return `${parts.map((part) => part ?? '').join('\u0000')}\u0000${positions.join(',')}`;
  }

  get(key: string): string | undefined {
    const json = this.answers.get(key);
    if (json === undefined) return undefined;
    this.answers.delete(key);
    this.answers.set(key, json);
    return json;
  }

  set(key: string, json: string): void {
    const size = AnswerCache.sizeOf(key, json);
    if (size > this.maxBytes) return;
    const previous = this.answers.get(key);
    if (previous !== undefined) {
      this.answers.delete(key);
      this.bytes -= AnswerCache.sizeOf(key, previous);
    }
    this.answers.set(key, json);
    this.bytes += size;
    for (const [oldest, answer] of this.answers) {
      if (this.bytes <= this.maxBytes) break;
      this.answers.delete(oldest);
      this.bytes -= AnswerCache.sizeOf(oldest, answer);
    }
  }

  /** Forgets every answer: the entries they were derived from now live in another generation (decision 023). */
  clear(): void {
    this.answers.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.answers.size;
  }

  /** UTF-16 code units, two bytes each: what the strings hold in memory. */
  private static sizeOf(key: string, json: string): number {
    return (key.length + json.length) * 2;
  }
}
