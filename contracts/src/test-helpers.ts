import { parseAgencyEvent } from './validate';

/**
 * For the catalogue specs: `path rule` of every issue the contracts raise for `input` (an
 * empty list when it is accepted). Not exported from the package.
 */
export function issuesOf(input: unknown, now = new Date()): string[] {
  const result = parseAgencyEvent(JSON.parse(JSON.stringify(input)), { now });
  return result.ok ? [] : result.issues.map((issue) => `${issue.path} ${issue.rule}`);
}

/** A copy of `event` with `data` fields replaced (undefined removes the field). */
export function withData<E extends { data: object }>(event: E, changes: Record<string, unknown>): E {
  const data: Record<string, unknown> = { ...event.data, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete data[key];
  return { ...event, data } as E;
}

/** Today minus `days` as YYYY-MM-DD (negative: in the future). */
export function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}
