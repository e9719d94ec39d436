import { pipeline, Readable } from 'node:stream';
import sax from 'sax';
import { parser as jsonParser } from 'stream-json';
import Assembler from 'stream-json/Assembler';

/**
 * A FHIR resource as read, in either of FHIR's forms. From JSON it is the JSON object; from
 * XML every child element is an array of values (XML does not say an element's cardinality)
 * and every primitive is a string, so readers go through `one`, `list`, `text`, `num`, `bool`.
 */
export type FhirNode = Record<string, unknown>;

/** One resource met in a file: a Bundle's entry (`Bundle.entry[12]`) or the file's one resource. */
export interface ResourceRead {
  readonly resource: FhirNode;
  /** FHIRPath-like, 0-based: `Bundle.entry[12]`, `Bundle.entry[3].resource.entry[0]`, or `Patient`. */
  readonly location: string;
  /** The entry's fullUrl, when the resource came in a Bundle that gives one. */
  readonly fullUrl?: string;
}

/** The file is not FHIR JSON or XML, or breaks off: the whole file is refused. */
export class FhirReadError extends Error {
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
    this.name = 'FhirReadError';
  }
}

/** The first value of an element (JSON single value or XML's array of one). */
export function one(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** An element's values as an array, whichever form it came in. */
export function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The node (object) of an element, or undefined. */
export function node(value: unknown): FhirNode | undefined {
  const first = one(value);
  return first !== null && typeof first === 'object' && !Array.isArray(first)
    ? (first as FhirNode)
    : undefined;
}

/** The nodes of a repeating element. */
export function nodes(value: unknown): FhirNode[] {
  return list(value).filter((item): item is FhirNode => item !== null && typeof item === 'object');
}

/** A primitive as a string: JSON string/number/boolean, or XML's `value` attribute. */
export function text(value: unknown): string | undefined {
  const first = one(value);
  if (typeof first === 'string') return first;
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  if (first !== null && typeof first === 'object' && 'value' in first) return text((first as FhirNode).value);
  return undefined;
}

export function num(value: unknown): number | undefined {
  const raw = text(value);
  if (raw === undefined || raw.trim() === '') return undefined;
  const parsed = Number(raw);
  return Number.isFinite(parsed) ? parsed : undefined;
}

export function bool(value: unknown): boolean | undefined {
  const raw = text(value);
  return raw === 'true' ? true : raw === 'false' ? false : undefined;
}

/**
 * The resources of a FHIR file, in file order: each entry of a Bundle (streamed: a Bundle is
 * never held whole, only one entry at a time), entries of a Bundle nested in an entry, or the
 * file's single resource. JSON or XML is told from the first character.
 */
export async function* readFhirResources(stream: NodeJS.ReadableStream): AsyncIterable<ResourceRead> {
  const chunks = chunksOf(stream);
  const first = await chunks.next();
  if (first.done) throw new FhirReadError('the file is empty', 'fhir-empty-file');
  const head = first.value.replace(/^\uFEFF/, '');
  const start = head.trimStart()[0];
  const all = (async function* () {
    yield head;
    for await (const chunk of chunks as AsyncIterable<string>) yield chunk;
  })();
  if (start === '{') yield* flatten(readJson(all));
  else if (start === '<') yield* flatten(readXml(all));
  else
    throw new FhirReadError(
      'the file is neither FHIR JSON (starting with {) nor FHIR XML (starting with <)',
      'fhir-format',
    );
}

async function* chunksOf(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const piece = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (piece) yield piece;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** A Bundle inside an entry (a message or document within a collection) gives its own entries. */
async function* flatten(reads: AsyncIterable<ResourceRead>): AsyncIterable<ResourceRead> {
  for await (const read of reads) yield* flattenOne(read);
}

function* flattenOne(read: ResourceRead): Iterable<ResourceRead> {
  if (read.resource.resourceType === 'Bundle') yield* entriesOf(read.resource, `${read.location}.resource`);
  else yield read;
}

function* entriesOf(bundle: FhirNode, prefix: string): Iterable<ResourceRead> {
  for (const [index, entry] of nodes(bundle.entry).entries()) {
    const resource = node(entry.resource);
    if (!resource) continue;
    const fullUrl = text(entry.fullUrl);
    yield* flattenOne({ resource, location: `${prefix}.entry[${index}]`, ...(fullUrl ? { fullUrl } : {}) });
  }
}

type Token = { name: string; value?: string };
const VALUE_TOKENS: Record<string, (value: string | undefined) => unknown> = {
  stringValue: (value) => value,
  numberValue: (value) => Number(value),
  trueValue: () => true,
  falseValue: () => false,
  nullValue: () => null,
};

/**
 * FHIR JSON. The top-level object is read key by key; when it is a Bundle (its resourceType
 * comes before `entry`, as FHIR JSON puts it first), each element of `entry` is assembled
 * and yielded on its own. Tokens are taken from the parser synchronously as they are ready
 * (an await per token would cost more than the parsing).
 */
async function* readJson(chunks: AsyncIterable<string>): AsyncIterable<ResourceRead> {
  const parser = jsonParser({ packValues: true, streamValues: false });
  let ended = false;
  let failure: Error | undefined;
  let wake = () => {};
  parser.on('readable', () => wake());
  parser.on('end', () => {
    ended = true;
    wake();
  });
  pipeline(Readable.from(chunks), parser, (error) => {
    if (error) failure ??= error;
    wake();
  });

  const top: FhirNode = {};
  let key: string | undefined;
  let depth = 0;
  let assembler: Assembler | undefined;
  let assembling: 'top-value' | 'entry' | undefined;
  let inEntries = false;
  let entryIndex = 0;
  let sawEnd = false;

  /** Takes one token; returns an entry when it completes one. */
  const take = (token: Token): ResourceRead | undefined => {
    if (assembler) {
      assembler.consume(token);
      if (!assembler.done) return undefined;
      const value = assembler.current as unknown;
      assembler = undefined;
      if (assembling === 'entry') {
        const entry = value as FhirNode;
        const resource = node(entry?.resource);
        const fullUrl = text(entry?.fullUrl);
        const index = entryIndex++;
        return resource
          ? { resource, location: `Bundle.entry[${index}]`, ...(fullUrl ? { fullUrl } : {}) }
          : undefined;
      }
      if (key !== undefined) top[key] = value;
      return undefined;
    }
    if (depth === 0) {
      if (token.name !== 'startObject')
        throw new FhirReadError('a FHIR JSON file holds one object', 'fhir-format');
      depth = 1;
      return undefined;
    }
    if (inEntries) {
      if (token.name === 'endArray') {
        inEntries = false;
        return undefined;
      }
      assembler = new Assembler();
      assembling = 'entry';
      assembler.consume(token);
      if (assembler.done) {
        assembler = undefined; // a primitive entry: not a resource
        entryIndex++;
      }
      return undefined;
    }
    if (token.name === 'keyValue') {
      key = token.value;
      return undefined;
    }
    if (token.name === 'endObject') {
      sawEnd = true;
      depth = 0;
      return undefined;
    }
    if (key === 'entry' && top.resourceType === 'Bundle' && token.name === 'startArray') {
      inEntries = true;
      return undefined;
    }
    const primitive = VALUE_TOKENS[token.name];
    if (primitive) {
      if (key !== undefined) top[key] = primitive(token.value);
      return undefined;
    }
    assembler = new Assembler();
    assembling = 'top-value';
    assembler.consume(token);
    return undefined;
  };

  try {
    for (;;) {
      const ready: ResourceRead[] = [];
      for (let token = parser.read() as Token | null; token !== null; token = parser.read() as Token | null) {
        const read = take(token);
        if (read) ready.push(read);
        if (ready.length >= 64) break;
      }
      if (ready.length) {
        yield* ready;
        continue;
      }
      if (failure) throw failure;
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } catch (error) {
    parser.destroy();
    if (error instanceof FhirReadError) throw error;
    throw new FhirReadError(`the JSON cannot be read: ${(error as Error).message}`, 'fhir-json-malformed');
  }
  if (!sawEnd) throw new FhirReadError('the JSON ends before its closing brace', 'fhir-json-malformed');
  if (typeof top.resourceType !== 'string')
    throw new FhirReadError('the JSON object has no resourceType', 'fhir-resource-type-missing');
  if (top.resourceType === 'Bundle') {
    // Entries came before resourceType: a Bundle read whole.
    yield* entriesOf(top, 'Bundle');
    return;
  }
  yield { resource: top, location: top.resourceType };
}

interface XmlFrame {
  readonly name: string;
  readonly node: FhirNode;
  readonly value?: string;
}

const XHTML = 'http://www.w3.org/1999/xhtml';

/**
 * FHIR XML, with sax: each `Bundle/entry` is built as it is read and yielded when it closes;
 * a file holding one resource yields it at its end. Narrative XHTML (`text/div`) is skipped.
 */
async function* readXml(chunks: AsyncIterable<string>): AsyncIterable<ResourceRead> {
  const xml = sax.parser(true, { trim: true, position: false });
  const ready: ResourceRead[] = [];
  const stack: XmlFrame[] = [];
  let skipping = 0;
  let bundle = false;
  let entryIndex = 0;
  let rootDone = false;
  let failure: Error | undefined;

  xml.onerror = (error) => {
    failure ??= error;
  };
  xml.onopentag = (tag) => {
    if (skipping) {
      skipping++;
      return;
    }
    const name = localName(tag.name);
    const attributes = tag.attributes as Record<string, string>;
    if (name === 'div' && (attributes.xmlns === XHTML || stack.at(-1)?.name === 'text')) {
      skipping = 1;
      return;
    }
    if (!stack.length) {
      if (!/^[A-Z]/.test(name)) failure ??= new Error(`the root element <${name}> is not a FHIR resource`);
      bundle = name === 'Bundle';
    }
    const frame: FhirNode = {};
    for (const [attribute, value] of Object.entries(attributes)) {
      if (attribute === 'value' || attribute === 'xmlns' || attribute.startsWith('xmlns:')) continue;
      frame[attribute] = value; // `url` of an extension, `id` of an element
    }
    stack.push({ name, node: frame, ...(attributes.value !== undefined ? { value: attributes.value } : {}) });
  };
  xml.onclosetag = () => {
    if (skipping) {
      skipping--;
      return;
    }
    const frame = stack.pop()!;
    const value = valueOf(frame);
    const parent = stack.at(-1);
    if (!parent) {
      rootDone = true;
      const resource = { resourceType: frame.name, ...(value as FhirNode) };
      if (!bundle) ready.push({ resource, location: frame.name });
      return;
    }
    if (bundle && stack.length === 1 && frame.name === 'entry') {
      const entry = value as FhirNode;
      const resource = node(entry.resource);
      const fullUrl = text(entry.fullUrl);
      if (resource)
        ready.push({ resource, location: `Bundle.entry[${entryIndex}]`, ...(fullUrl ? { fullUrl } : {}) });
      entryIndex++;
      return;
    }
    // A resource element (capitalised) inside its wrapper (`resource`, `contained`, `outcome`).
    if (/^[A-Z]/.test(frame.name)) {
      Object.assign(parent.node, { resourceType: frame.name, ...(value as FhirNode) });
      return;
    }
    const siblings = (parent.node[frame.name] ??= []) as unknown[];
    siblings.push(value);
  };

  for await (const chunk of chunks) {
    xml.write(chunk);
    if (failure)
      throw new FhirReadError(
        `the XML cannot be read: ${failure.message.split('\n')[0]}`,
        'fhir-xml-malformed',
      );
    yield* ready.splice(0);
  }
  xml.close();
  if (failure)
    throw new FhirReadError(
      `the XML cannot be read: ${failure.message.split('\n')[0]}`,
      'fhir-xml-malformed',
    );
  if (!rootDone) throw new FhirReadError('the XML ends before its root element closes', 'fhir-xml-malformed');
  yield* ready.splice(0);
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** An element with only a `value` is that primitive; one with children (or an id) is a node. */
function valueOf(frame: XmlFrame): unknown {
  const keys = Object.keys(frame.node);
  if (frame.value !== undefined && keys.length === 0) return frame.value;
  if (frame.value !== undefined) return { ...frame.node, value: frame.value };
  return frame.node;
}
