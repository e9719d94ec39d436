import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { markClientBroken } from './postgres';

/** COPY text format's NULL. */
export const COPY_NULL = '\\N';

/** COPY text format: backslash, newline, carriage return and tab are escaped; nothing else is special. */
export function copyText(value: string): string {
  if (!/[\\\n\r\t]/.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (character) =>
    character === '\\' ? '\\\\' : character === '\n' ? '\\n' : character === '\r' ? '\\r' : '\\t',
  );
}

/** JSON.stringify never emits a raw newline, carriage return or tab, so only backslashes need doubling. */
export function copyJson(json: string): string {
  return json.includes('\\') ? json.replace(/\\/g, '\\\\') : json;
}

/** A `text[]` as COPY text: an array literal with every element quoted (`"` and `\` escaped in it), then copyText. */
export function copyTextArray(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  return copyText(`{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
}

/**
 * `COPY … FROM STDIN` (text format) of the chunks, each sent as soon as the server takes the one
 * before (a generator's chunks are built as they go). A failure half-way may leave the connection
 * mid-protocol: the client is marked broken (withTransaction then neither rolls back nor reuses
 * it) and the error thrown.
 */
export async function copyIn(
  client: ClientBase,
  statement: string,
  chunks: Iterable<string | Uint8Array>,
): Promise<void> {
  try {
    await pipeline(Readable.from(chunks, { highWaterMark: 1 }), client.query(copyFrom(statement)));
  } catch (error) {
    markClientBroken(client);
    throw error;
  }
}
