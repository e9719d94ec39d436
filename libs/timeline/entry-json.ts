/**
 * A timeline answer as UTF-8 JSON, put together from each entry's JSON made once per entry held.
 *
 * Why: a chronology of 1,000 entries is about 1.1 MB of JSON. Stringifying it for every read,
 * then measuring and encoding the (two-byte, since summaries hold characters outside Latin-1)
 * string for the socket took about 20 ms of the projection's one thread per read, more than
 * everything else the read does. The entries are shared and never change (StreamEntryCache),
 * so each is stringified and encoded once, when first answered, and a read copies bytes.
 *
 * The bytes are exactly those of `JSON.stringify({ ...head, entries })`, where each entry is
 * `{ ...view, sharedUnder }`: the reader's basis is spliced in after the view's last member.
 */

/** An entry's JSON as UTF-8, by the (shared, never changed) view it was made from. */
const ENTRY_JSON = new WeakMap<object, Buffer>();

const COMMA = Buffer.from(',');
const SHARED_UNDER = Buffer.from(',"sharedUnder":');
const SHARED_UNDER_FIRST = Buffer.from('"sharedUnder":');
const CLOSE_ENTRY = Buffer.from('}');
const CLOSE_ANSWER = Buffer.from(']}');
const EMPTY_ENTRIES = ',"entries":[]}';

function entryJson(view: object): Buffer {
  let json = ENTRY_JSON.get(view);
  if (!json) {
    json = Buffer.from(JSON.stringify(view));
    if (json[0] !== 0x7b || json[json.length - 1] !== 0x7d)
      throw new Error('a timeline entry must be a JSON object');
    ENTRY_JSON.set(view, json);
  }
  return json;
}

/**
 * `JSON.stringify({ ...head, entries: entries.map(({ view, sharedUnder }) => ({ ...view, sharedUnder })) })`
 * as UTF-8. `head` must not have `entries` itself, nor a view `sharedUnder`.
 */
export function answerJson<V extends object, S>(
  head: object,
  entries: readonly { readonly view: V; readonly sharedUnder: S }[],
): Buffer {
  const headJson = JSON.stringify({ ...head, entries: [] });
  if (!headJson.endsWith(EMPTY_ENTRIES)) throw new Error('a timeline answer must end with its entries');
  const pieces: Buffer[] = [Buffer.from(headJson.slice(0, -2))];
  // A read's entries share a handful of bases (own organisation, an agreement or two).
  const bases = new Map<string, Buffer>();
  entries.forEach(({ view, sharedUnder }, index) => {
    if (index > 0) pieces.push(COMMA);
    const json = entryJson(view);
    const basisText = JSON.stringify(sharedUnder) as string | undefined;
    if (basisText === undefined) throw new Error('every entry of a timeline answer has a basis');
    let basis = bases.get(basisText);
    if (!basis) bases.set(basisText, (basis = Buffer.from(basisText)));
    // `{…}` without its closing brace; an empty view takes the basis as its only member.
    pieces.push(json.subarray(0, json.length - 1), json.length > 2 ? SHARED_UNDER : SHARED_UNDER_FIRST);
    pieces.push(basis, CLOSE_ENTRY);
  });
  pieces.push(CLOSE_ANSWER);
  return Buffer.concat(pieces);
}
