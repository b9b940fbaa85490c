// Building DOM nodes without a framework: h('td', { 'data-testid': 'x' }, 'text', child, [more]).
// Text is always set as text, never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'class' && Array.isArray(value)) element.setAttribute('class', value.filter(Boolean).join(' '));
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

const drawn = new WeakMap();

/**
 * Whether `data` differs from what `element` was last drawn from (and remembers it): a refresh
 * redraws only what changed, so a link or button is not replaced under the pointer.
 */
export function changed(element, data) {
  const key = JSON.stringify(data);
  if (drawn.get(element) === key) return false;
  drawn.set(element, key);
  return true;
}

/** Replaces the children of `element`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/**
 * A cell showing `value` formatted, with the raw number in `data-value` (what tests compare with
 * the REST API) and in the tooltip. null or undefined shows as a dash.
 */
export function num(tag, testid, value, format, attrs = {}) {
  const missing = value === null || value === undefined;
  return h(tag, { ...attrs, class: ['num', attrs.class], 'data-testid': testid, 'data-value': missing ? '' : String(value), title: missing ? undefined : String(value) }, missing ? '—' : format(value));
}

/** A coloured badge: `kind` picks the colour (ok, warn, bad, info, muted). */
export function badge(text, kind, testid) {
  return h('span', { class: `badge badge-${kind}`, 'data-testid': testid }, text);
}

/** A hash link inside the console. */
export function link(hash, text, attrs = {}) {
  return h('a', { ...attrs, href: hash }, text);
}
