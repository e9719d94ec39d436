import { StringDecoder } from 'node:string_decoder';
import sax from 'sax';

/**
 * A small element tree of one record (a CIN census Child or the Header): the file is streamed
 * with `sax` and only the record being read is held, so memory does not grow with the file.
 */
export interface XmlNode {
  readonly name: string;
  /** Element path with 1-based positions among same-named siblings: `Message/Children/Child[12]`. */
  readonly path: string;
  readonly children: XmlNode[];
  text: string;
}

/** Elements that occur once where they occur: their paths carry no position. */
const UNINDEXED = new Set(['Header', 'Children']);

/** The first child element named `name`. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** Every child element named `name`, in file order. */
export function childrenNamed(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}

/** The trimmed text of the first child element named `name`; undefined when absent or empty. */
export function textOf(node: XmlNode, name: string): string | undefined {
  const text = child(node, name)?.text.trim();
  return text ? text : undefined;
}

/**
 * Streams an XML file and calls `onRecord` with each complete element whose path (element
 * names only, e.g. `Message/Children/Child`) is in `recordPaths`; the element is then dropped.
 * Yields whatever `onRecord` returns, in file order, as the file is read.
 */
export async function* streamRecords<T>(
  input: NodeJS.ReadableStream,
  recordPaths: ReadonlySet<string>,
  onRecord: (node: XmlNode) => Iterable<T>,
  /** The name the root element must have (e.g. `Message`); anything else fails the file. */
  root?: string,
): AsyncGenerator<T> {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true });
  const out: T[] = [];
  // Element names of the open elements, and per open element the count of its children by name.
  const names: string[] = [];
  const counts: Map<string, number>[] = [new Map()];
  const paths: string[] = [];
  let record: XmlNode[] | undefined;

  parser.onopentag = (tag) => {
    const name = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
    const siblings = counts[counts.length - 1];
    const position = (siblings.get(name) ?? 0) + 1;
    siblings.set(name, position);
    const parentPath = paths[paths.length - 1];
    if (parentPath === undefined && root !== undefined && name !== root) {
      throw new Error(`the file is not ${root} XML: its root element is <${name.slice(0, 40)}>`);
    }
    const path =
      parentPath === undefined ? name : `${parentPath}/${name}${UNINDEXED.has(name) ? '' : `[${position}]`}`;
    names.push(name);
    paths.push(path);
    counts.push(new Map());
    if (record) {
      const node: XmlNode = { name, path, children: [], text: '' };
      record[record.length - 1].children.push(node);
      record.push(node);
    } else if (recordPaths.has(names.join('/'))) {
      record = [{ name, path, children: [], text: '' }];
    }
  };
  const onText = (text: string) => {
    if (record) record[record.length - 1].text += text;
  };
  parser.ontext = onText;
  parser.oncdata = onText;
  parser.onclosetag = () => {
    names.pop();
    paths.pop();
    counts.pop();
    if (!record) return;
    const node = record.pop()!;
    if (record.length === 0) {
      record = undefined;
      for (const item of onRecord(node)) out.push(item);
    }
  };
  parser.onerror = (error) => {
    throw new Error(
      `the file is not well-formed XML: ${error.message.split('\n')[0]} (line ${parser.line + 1})`,
    );
  };

  const decoder = new StringDecoder('utf8');
  let first = true;
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    // A byte order mark before the XML declaration is not text before the root.
    if (first && text.length) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    parser.write(text);
    if (out.length) yield* out.splice(0, out.length);
  }
  parser.write(decoder.end());
  parser.close();
  if (out.length) yield* out.splice(0, out.length);
}
