// Building the page's DOM from data: children are text or nodes, so data is never parsed as
// markup (Trusted Types would refuse an HTML sink anyway).

/** What el() and setContent() accept as content: text and nodes, arrays flattened, empty values skipped. */
export type Content = Node | string | number | null | undefined | false | Content[];
export type Attributes = Record<string, string | number | boolean | null | undefined>;

/** Builds an element; children are text or nodes, so data is never parsed as markup. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Attributes,
  ...children: Content[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.keys(props || {}).forEach((name) => {
    const value = props[name];
    if (value === undefined || value === null || value === false) return;
    if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  });
  for (const child of children) append(node, child);
  return node;
}

export function append(node: Node, child: Content): void {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child))
    child.forEach((item) => {
      append(node, item);
    });
  else if (child instanceof Node) node.appendChild(child);
  else node.appendChild(document.createTextNode(String(child)));
}

/** Replaces a node's content with text and nodes (arrays are flattened, empty values skipped). */
export function setContent(node: Element, ...content: Content[]): void {
  node.replaceChildren();
  for (const child of content) append(node, child);
}

/** A page-unique id for aria-controls / aria-labelledby pairs. */
let counter = 0;
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
