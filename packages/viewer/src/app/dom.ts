/** A child of {@link h}: strings become text nodes (never markup), null/undefined/false are skipped. */
export type Child = Node | string | number | null | undefined | false;

/** Children of {@link h}, nested arrays flattened. */
export type Children = Child | readonly Children[];

/** Attributes of {@link h}: strings via setAttribute, `on*` functions as listeners, booleans toggle. */
export type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Creates an element. Text is always set as text nodes, so labels and paths stay data; the app
 * never assigns `innerHTML`.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Children[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children (text as text nodes). */
export function append(parent: Node, children: readonly Children[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (typeof child === 'string' || typeof child === 'number')
      parent.appendChild(document.createTextNode(String(child)));
    else parent.appendChild(child as Node);
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** Creates an SVG element; text children become text nodes. */
export function s(
  tag: string,
  attributes: Record<string, string | number> = {},
  ...children: Child[]
): SVGElement {
  const element = document.createElementNS(SVG, tag) as SVGElement;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

/** A number with `digits` decimals, or an en dash when absent. */
export function formatNumber(value: number | undefined, digits = 3): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}
