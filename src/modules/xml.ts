// xml: structural edits of an XML file, community.general.xml in spirit. The probe round trip
// returns the file's bytes; the controller parses them (xmldom), selects nodes with XPath 1.0
// (xpath), edits the DOM, and writes only what changed into the original text (xml-source.ts):
// every untouched byte stays. The result is written back atomically in one more exec (mode/owner
// kept, backup) only when the text differs.
import { createRequire } from 'node:module';
import type * as XmlDom from '@xmldom/xmldom';
import type { Document, Element, Node as XNode } from '@xmldom/xmldom';
import type * as XPath from 'xpath';
import { editRemoteText } from './lineinfile.js';
import { ATTR_PROPS, type FileAttrs } from './lib/file-attrs.js';
import { mapSource, spliceSource } from './xml-source.js';
import type { ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

// Loaded at the first XML edit, not at start-up: most runs edit no XML (about 40 ms of every start).
const requireHere = createRequire(import.meta.url);
let xmldomLib: typeof XmlDom | undefined;
let xpathLib: typeof XPath | undefined;
const xmldom = (): typeof XmlDom => (xmldomLib ??= requireHere('@xmldom/xmldom') as typeof XmlDom);
const xpath = (): typeof XPath => (xpathLib ??= requireHere('xpath') as typeof XPath);

export type XmlScalar = string | number | boolean;

/**
 * One child of set_children/add_children (community.general.xml's YAML shape): a tag name, or a
 * one-key mapping `{tag: text}` / `{tag: {attr: value, ..., '+value': text, _: [children]}}`.
 */
export type ChildSpec = string | Record<string, unknown>;

export interface XmlEdit {
  xpath: string;
  /** Prefix -> namespace URI, for the prefixes used in xpath and in new element/attribute names. */
  namespaces?: Record<string, string>;
  state?: 'present' | 'absent';
  value?: XmlScalar;
  attribute?: string;
  set_children?: ChildSpec[];
  add_children?: ChildSpec[];
  count?: boolean;
  pretty_print?: boolean;
}

export interface XmlArgs extends XmlEdit, FileAttrs {
  path: string;
  backup?: boolean;
}

export interface XmlEditResult {
  after: string;
  changed: boolean;
  msg: string;
  /** Nodes the xpath matched before the edit. */
  count: number;
}

/** A user error of the xml module (bad xpath, no match, invalid XML): becomes a failed result. */
export class XmlEditError extends Error {}

const ELEMENT = 1;
const ATTRIBUTE = 2;
const TEXT = 3;
const CDATA = 4;
const COMMENT = 8;
const DOCUMENT = 9;

const QNAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;
const isWs = (n: XNode): boolean => n.nodeType === TEXT && /^\s*$/.test(n.nodeValue ?? '');
const isEl = (n: XNode | null | undefined): n is Element => n?.nodeType === ELEMENT;
const str = (v: XmlScalar): string => String(v);

// ---- parse, select, serialize ------------------------------------------------------------------

/** Parses strictly: any xmldom error (not warnings) fails with its line and column. */
export function parseXml(text: string, file = 'the document'): Document {
  let first: string | undefined;
  const parser = new (xmldom().DOMParser)({
    onError: (level, msg) => {
      if (level === 'warning') return;
      first ??= msg;
      throw new Error(msg);
    },
  });
  try {
    return parser.parseFromString(text, 'text/xml');
  } catch (e) {
    const loc = (e as { locator?: { lineNumber?: number; columnNumber?: number } }).locator;
    const at = loc?.lineNumber ? ` (line ${loc.lineNumber}, column ${loc.columnNumber ?? 0})` : '';
    const msg = (first ?? (e as Error).message).replace(/\s*@#\[line:\d+,col:\d+\]\s*$/, '').trim();
    throw new XmlEditError(`${file} is not well-formed XML${at}: ${msg}`);
  }
}

function nsHint(doc: Document, xp: string): string {
  const uri = doc.documentElement?.namespaceURI;
  if (!uri || /[A-Za-z_][\w.-]*:[A-Za-z_*]/.test(xp.replace(/'[^']*'|"[^"]*"/g, ''))) return '';
  return ` (the document has the default namespace ${uri}: map a prefix to it in namespaces and use it in every step, e.g. namespaces: {x: '${uri}'}, xpath: /x:${doc.documentElement!.localName}/...)`;
}

/** Nodes selected by an XPath 1.0 expression; anything but a node-set is an error. */
export function selectNodes(doc: Document | XNode, xp: string, namespaces: Record<string, string> = {}): XNode[] {
  let r: unknown;
  try {
    // xpath's typings are the DOM lib's; xmldom's nodes implement what it reads.
    r = xpath().useNamespaces(namespaces)(xp, doc as unknown as globalThis.Node);
  } catch (e) {
    throw new XmlEditError(`invalid xpath '${xp}': ${(e as Error).message}`);
  }
  if (!Array.isArray(r)) throw new XmlEditError(`xpath '${xp}' must select nodes, it evaluates to the ${typeof r} ${JSON.stringify(r)}`);
  return r as unknown as XNode[];
}

/**
 * The document as text. xmldom keeps the prolog (declaration, comments, the whitespace between
 * them) and everything inside the root; what it drops or normalises is put back: whitespace after
 * the last node, CRLF line ends.
 */
export function serializeXml(doc: Document, original: string): string {
  let out = new (xmldom().XMLSerializer)().serializeToString(doc);
  const tail = /\s*$/.exec(original)![0];
  if (!/\s$/.test(out)) out += tail;
  if (original.includes('\r\n')) out = out.replace(/\r?\n/g, '\r\n');
  return out;
}

/** One node as text (a node this edit created: the rest of the document is copied from the source). */
function serializeNode(n: XNode): string {
  const out = new (xmldom().XMLSerializer)().serializeToString(n);
  const parent = n.parentNode;
  if (!isEl(n) || !isEl(parent)) return out;
  // Serialized alone, a new element declares the namespaces its parent already has in scope: drop those.
  return out.replace(/^<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*/, (head) =>
    head.replace(/\s+xmlns(?::([\w.-]+))?="([^"]*)"/g, (decl, p: string | undefined, uri: string) => ((parent.lookupNamespaceURI(p ?? '') ?? '') === uri ? '' : decl)),
  );
}

// ---- encodings -----------------------------------------------------------------------------------

export type XmlEncoding = 'utf8' | 'latin1' | 'ascii';

/** The encoding named by the XML declaration (UTF-8 when there is none). */
export function xmlEncoding(raw: Buffer): { enc: XmlEncoding; bom: boolean } {
  if ((raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff)) throw new XmlEditError('UTF-16 XML files are not supported');
  const bom = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
  const head = raw.subarray(bom ? 3 : 0, 300).toString('latin1');
  const m = /^<\?xml[^>]*?\sencoding\s*=\s*["']([^"']+)["']/.exec(head);
  const name = (m?.[1] ?? 'utf-8').toLowerCase();
  if (name === 'utf-8' || name === 'utf8') return { enc: 'utf8', bom };
  if (['iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'latin-1', 'l1'].includes(name)) return { enc: 'latin1', bom: false };
  if (name === 'us-ascii' || name === 'ascii') return { enc: 'ascii', bom: false };
  throw new XmlEditError(`unsupported XML encoding '${m?.[1]}' (supported: UTF-8, ISO-8859-1, US-ASCII)`);
}

export function decodeXml(raw: Buffer, enc: XmlEncoding, bom: boolean): string {
  return enc === 'utf8' ? raw.subarray(bom ? 3 : 0).toString('utf8') : raw.toString('latin1');
}

/** Characters the encoding cannot hold become character references. */
export function encodeXml(text: string, enc: XmlEncoding, bom: boolean): Buffer {
  if (enc === 'utf8') return Buffer.from(bom ? `\uFEFF${text}` : text, 'utf8');
  const max = enc === 'latin1' ? 0xff : 0x7f;
  let out = '';
  for (const ch of text) out += ch.codePointAt(0)! > max ? `&#x${ch.codePointAt(0)!.toString(16).toUpperCase()};` : ch;
  return Buffer.from(out, 'latin1');
}

// ---- names and namespaces ----------------------------------------------------------------------

function defaultNs(el: Element): string | null {
  return el.lookupNamespaceURI('') || null;
}

function prefixUri(prefix: string, el: Element, ns: Record<string, string>, name: string): string {
  const uri = ns[prefix] ?? el.lookupNamespaceURI(prefix);
  if (!uri) throw new XmlEditError(`the prefix '${prefix}' of '${name}' is neither in namespaces nor declared in the document`);
  return uri;
}

/**
 * Namespace and qualified name of a new element under `parent`: an unprefixed name takes the
 * parent's default namespace; a prefixed one the URI it maps to, written with the prefix the
 * document already uses for that URI (none when it is the default namespace).
 */
function elementName(name: string, parent: Element, ns: Record<string, string>): { uri: string | null; qname: string; local: string } {
  const i = name.indexOf(':');
  if (i < 0) return { uri: defaultNs(parent), qname: name, local: name };
  const local = name.slice(i + 1);
  const uri = prefixUri(name.slice(0, i), parent, ns, name);
  if (defaultNs(parent) === uri) return { uri, qname: local, local };
  const p = parent.lookupPrefix(uri);
  return { uri, qname: p ? `${p}:${local}` : name, local };
}

function attrKey(name: string, el: Element, ns: Record<string, string>): { uri: string | null; qname: string; local: string } {
  const i = name.indexOf(':');
  if (i < 0) return { uri: null, qname: name, local: name };
  const local = name.slice(i + 1);
  const uri = prefixUri(name.slice(0, i), el, ns, name);
  const p = el.lookupPrefix(uri);
  return { uri, qname: p ? `${p}:${local}` : name, local };
}

function getAttr(el: Element, name: string, ns: Record<string, string>): string | null {
  const k = attrKey(name, el, ns);
  if (k.uri === null) return el.hasAttribute(name) ? el.getAttribute(name) : null;
  return el.hasAttributeNS(k.uri, k.local) ? el.getAttributeNS(k.uri, k.local) : null;
}

function setAttr(el: Element, name: string, value: string, ns: Record<string, string>): boolean {
  if (getAttr(el, name, ns) === value) return false;
  const k = attrKey(name, el, ns);
  if (k.uri === null) el.setAttribute(name, value);
  else el.setAttributeNS(k.uri, k.qname, value);
  return true;
}

function removeAttr(el: Element, name: string, ns: Record<string, string>): boolean {
  if (getAttr(el, name, ns) === null) return false;
  const k = attrKey(name, el, ns);
  if (k.uri === null) el.removeAttribute(name);
  else el.removeAttributeNS(k.uri, k.local);
  return true;
}

// ---- child specifications ----------------------------------------------------------------------

/** A child element to create or compare: the normalised form of a ChildSpec or an xpath step. */
interface NewElement {
  name: string;
  attrs: [string, string][];
  text?: string;
  children: NewElement[];
}

function isScalar(v: unknown): v is XmlScalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

export function normaliseChild(spec: unknown, where: string): NewElement {
  const checkName = (n: string): string => {
    if (!QNAME.test(n)) throw new XmlEditError(`${where}: '${n}' is not a valid element name`);
    return n;
  };
  if (typeof spec === 'string') return { name: checkName(spec), attrs: [], children: [] };
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new XmlEditError(`${where}: a child is a tag name or a mapping {tag: ...}, got ${JSON.stringify(spec)}`);
  const keys = Object.keys(spec);
  if (keys.length !== 1) throw new XmlEditError(`${where}: a child mapping has exactly one key (the tag), got ${keys.length ? keys.join(', ') : 'none'}`);
  const name = checkName(keys[0]!);
  const body = (spec as Record<string, unknown>)[name];
  if (body === null || body === undefined) return { name, attrs: [], children: [] };
  if (isScalar(body)) return { name, attrs: [], text: str(body), children: [] };
  if (typeof body !== 'object' || Array.isArray(body)) throw new XmlEditError(`${where}: the value of '${name}' must be text or a mapping of attributes`);
  const out: NewElement = { name, attrs: [], children: [] };
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === '_') {
      if (!Array.isArray(v)) throw new XmlEditError(`${where}: '_' of '${name}' must be a list of children`);
      out.children = v.map((c, i) => normaliseChild(c, `${where} > ${name}[${i}]`));
    } else if (k === '+value') {
      if (!isScalar(v)) throw new XmlEditError(`${where}: '+value' of '${name}' must be text`);
      out.text = str(v);
    } else {
      if (!QNAME.test(k)) throw new XmlEditError(`${where}: '${k}' is not a valid attribute name`);
      if (!isScalar(v)) throw new XmlEditError(`${where}: attribute '${k}' of '${name}' must be text, got ${JSON.stringify(v)}`);
      out.attrs.push([k, str(v)]);
    }
  }
  return out;
}

function elementChildren(el: Element): Element[] {
  return Array.from(el.childNodes).filter(isEl);
}

function directText(el: Element): string {
  return Array.from(el.childNodes)
    .filter((n) => n.nodeType === TEXT || n.nodeType === CDATA)
    .map((n) => n.nodeValue ?? '')
    .join('');
}

/** Does an existing element equal the wanted one (name, attributes, text, children; whitespace and comments ignored)? */
function sameElement(el: Element, want: NewElement, ns: Record<string, string>): boolean {
  const parent = isEl(el.parentNode) ? el.parentNode : el;
  const n = elementName(want.name, parent, ns);
  if (el.localName !== n.local || (el.namespaceURI || null) !== n.uri) return false;
  const attrs = Array.from(el.attributes).filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'));
  if (attrs.length !== want.attrs.length) return false;
  if (!want.attrs.every(([k, v]) => getAttr(el, k, ns) === v)) return false;
  const kids = elementChildren(el);
  if (kids.length !== want.children.length) return false;
  const text = directText(el);
  if (kids.length ? text.trim() !== (want.text ?? '').trim() : text !== (want.text ?? '')) return false;
  return kids.every((k, i) => sameElement(k, want.children[i]!, ns));
}

// ---- layout: new nodes are indented like their neighbours ----------------------------------------

interface Layout {
  /** The document is indented (whitespace text with newlines between elements). */
  indented: boolean;
  unit: string;
}

/** The indentation written before an element (after the last newline of the preceding whitespace). */
function indentOf(el: Element): string | undefined {
  if (el.parentNode?.nodeType === DOCUMENT) return '';
  const prev = el.previousSibling;
  if (prev && isWs(prev) && (prev.nodeValue ?? '').includes('\n')) return prev.nodeValue!.slice(prev.nodeValue!.lastIndexOf('\n') + 1);
  return undefined;
}

function detectLayout(doc: Document): Layout {
  const root = doc.documentElement;
  if (!root) return { indented: false, unit: '  ' };
  const queue: Element[] = [root];
  while (queue.length) {
    const el = queue.shift()!;
    const pi = indentOf(el);
    for (const k of elementChildren(el)) {
      const ci = indentOf(k);
      if (pi !== undefined && ci !== undefined && ci.length > pi.length && ci.startsWith(pi)) return { indented: true, unit: ci.slice(pi.length) };
      queue.push(k);
    }
  }
  return { indented: false, unit: '  ' };
}

function guessIndent(el: Element, layout: Layout): string {
  const own = indentOf(el);
  if (own !== undefined) return own;
  return isEl(el.parentNode) ? guessIndent(el.parentNode, layout) + layout.unit : '';
}

/** Appends a child on its own line, indented like its siblings (or one level deeper than the parent). */
function appendFormatted(parent: Element, child: XNode, layout: Layout): void {
  const doc = parent.ownerDocument!;
  if (!layout.indented) {
    parent.appendChild(child);
    return;
  }
  const kids = Array.from(parent.childNodes);
  const pi = guessIndent(parent, layout);
  const sibling = elementChildren(parent).map(indentOf).find((x) => x !== undefined);
  const ci = sibling ?? pi + layout.unit;
  if (kids.every(isWs)) {
    for (const k of kids) parent.removeChild(k);
    parent.appendChild(doc.createTextNode(`\n${ci}`));
    parent.appendChild(child);
    parent.appendChild(doc.createTextNode(`\n${pi}`));
    return;
  }
  const last = parent.lastChild;
  if (last && isWs(last) && (last.nodeValue ?? '').includes('\n')) {
    parent.insertBefore(doc.createTextNode(`\n${ci}`), last);
    parent.insertBefore(child, last);
    return;
  }
  parent.appendChild(child);
}

/** Removes a node with the indentation in front of it; an element left with only whitespace is emptied. */
function removeFormatted(node: XNode): void {
  const parent = node.parentNode;
  if (!parent) return;
  const prev = node.previousSibling;
  if (prev && isWs(prev) && (prev.nodeValue ?? '').includes('\n')) parent.removeChild(prev);
  parent.removeChild(node);
  if (isEl(parent) && parent.parentNode?.nodeType !== DOCUMENT) {
    const rest = Array.from(parent.childNodes);
    if (rest.length && rest.every(isWs)) for (const k of rest) parent.removeChild(k);
  }
}

function clearChildren(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

function buildElement(parent: Element, want: NewElement, ns: Record<string, string>, layout: Layout): Element {
  const doc = parent.ownerDocument!;
  const n = elementName(want.name, parent, ns);
  const el = doc.createElementNS(n.uri, n.qname);
  appendFormatted(parent, el, layout);
  for (const [k, v] of want.attrs) setAttr(el, k, v, ns);
  if (want.text) el.appendChild(doc.createTextNode(want.text));
  for (const c of want.children) buildElement(el, c, ns, layout);
  return el;
}

/** Re-indents the whole root element (elements with text content are left as they are). */
function prettyPrint(doc: Document, unit: string): void {
  const visit = (el: Element, indent: string): void => {
    const kids = Array.from(el.childNodes);
    if (!kids.some((k) => k.nodeType === ELEMENT || k.nodeType === COMMENT)) return;
    if (kids.some((k) => (k.nodeType === TEXT || k.nodeType === CDATA) && !isWs(k))) return; // mixed content
    for (const k of kids) if (isWs(k)) el.removeChild(k);
    for (const k of Array.from(el.childNodes)) {
      el.insertBefore(el.ownerDocument!.createTextNode(`\n${indent}${unit}`), k);
      if (isEl(k)) visit(k, indent + unit);
    }
    el.appendChild(el.ownerDocument!.createTextNode(`\n${indent}`));
  };
  if (doc.documentElement) visit(doc.documentElement, '');
}

// ---- creating the missing last step --------------------------------------------------------------

/** Splits an xpath at its last top-level `/`: undefined when the last step is not a plain child step. */
export function splitLastStep(xp: string): { parent: string; step: string } | undefined {
  let depth = 0;
  let quote = '';
  let last = -1;
  for (let i = 0; i < xp.length; i++) {
    const c = xp[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === '|' && depth === 0) return undefined;
    else if (c === '/' && depth === 0) last = i;
  }
  if (last <= 0) return undefined;
  const parent = xp.slice(0, last).trim();
  if (parent.endsWith('/') || parent === '') return undefined;
  return { parent, step: xp.slice(last + 1).trim() };
}

type Step = { kind: 'element'; el: NewElement } | { kind: 'attribute'; name: string } | { kind: 'text' };

const LITERAL = `(?:'([^']*)'|"([^"]*)")`;

/** The last step as something to create: `tag`, `p:tag[@a='v'][child='v' and @b="w"]`, `@attr`, `text()`. */
export function parseStep(step: string): Step | undefined {
  if (step === 'text()') return { kind: 'text' };
  const attr = /^@([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)$/.exec(step);
  if (attr) return { kind: 'attribute', name: attr[1]! };
  const m = /^([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)\s*((?:\[[\s\S]*\])?)$/.exec(step);
  if (!m) return undefined;
  const el: NewElement = { name: m[1]!, attrs: [], children: [] };
  const preds: string[] = [];
  let rest = m[2]!;
  while (rest) {
    let depth = 0;
    let quote = '';
    let end = -1;
    for (let i = 0; i < rest.length && end < 0; i++) {
      const c = rest[i]!;
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '[') depth++;
      else if (c === ']' && --depth === 0) end = i;
    }
    if (end < 0) return undefined;
    preds.push(rest.slice(1, end));
    rest = rest.slice(end + 1).trim();
    if (rest && !rest.startsWith('[')) return undefined;
  }
  const cond = new RegExp(`^(@?)([A-Za-z_][\\w.-]*(?::[A-Za-z_][\\w.-]*)?|\\.|text\\(\\))(/text\\(\\))?\\s*=\\s*${LITERAL}$`);
  for (const p of preds) {
    for (const c of p.split(/\s+and\s+(?=(?:[^'"]|'[^']*'|"[^"]*")*$)/)) {
      const x = cond.exec(c.trim());
      if (!x) return undefined;
      const [, at, name, viaText, s1, s2] = x;
      const v = s1 ?? s2 ?? '';
      if (at) {
        if (name === '.' || name === 'text()' || viaText) return undefined;
        el.attrs.push([name!, v]);
      } else if (name === '.' || name === 'text()') {
        if (viaText) return undefined;
        el.text = v;
      } else el.children.push({ name: name!, attrs: [], text: v, children: [] });
    }
  }
  return { kind: 'element', el };
}

// ---- the edit ---------------------------------------------------------------------------------

function describe(n: XNode): string {
  return n.nodeType === ELEMENT ? `<${n.nodeName}>` : n.nodeType === ATTRIBUTE ? `@${n.nodeName}` : n.nodeName;
}

/** Sets an element's text: its children become one text node (nothing when equal already). */
function setText(node: XNode, value: string): boolean {
  if (isEl(node)) {
    const kids = Array.from(node.childNodes);
    if (value === '' ? kids.length === 0 : kids.length === 1 && kids[0]!.nodeType === TEXT && kids[0]!.nodeValue === value) return false;
    clearChildren(node);
    if (value !== '') node.appendChild(node.ownerDocument!.createTextNode(value));
    return true;
  }
  if (node.nodeType === ATTRIBUTE || node.nodeType === TEXT || node.nodeType === CDATA || node.nodeType === COMMENT) {
    if (node.nodeValue === value) return false;
    if (node.nodeType === ATTRIBUTE) (node as unknown as { value: string }).value = value;
    else (node as unknown as { data: string }).data = value;
    return true;
  }
  throw new XmlEditError(`cannot set the value of ${describe(node)}`);
}

function checkEdit(e: XmlEdit): void {
  const state = e.state ?? 'present';
  const ops = [e.value !== undefined && 'value', e.set_children && 'set_children', e.add_children && 'add_children'].filter(Boolean);
  if (ops.length > 1) throw new XmlEditError(`parameters are mutually exclusive: ${ops.join('|')}`);
  if (e.count && (ops.length || e.attribute !== undefined || state === 'absent')) throw new XmlEditError('count only counts: it takes no value, attribute, children or state=absent');
  if (state === 'absent' && ops.length) throw new XmlEditError(`state=absent takes no ${ops[0]}`);
  if (state === 'present' && e.attribute !== undefined && e.value === undefined) throw new XmlEditError('value is required with attribute (state=present)');
  if (e.attribute !== undefined && ops.some((o) => o !== 'value')) throw new XmlEditError('attribute goes with value, not with children');
  for (const p of Object.keys(e.namespaces ?? {})) if (!/^[A-Za-z_][\w.-]*$/.test(p)) throw new XmlEditError(`'${p}' is not a valid namespace prefix`);
}

/** Applies one edit to a document's text; pure (no I/O), so it is tested as data. */
export function editXml(text: string, e: XmlEdit, file = 'the document'): XmlEditResult {
  checkEdit(e);
  const ns = e.namespaces ?? {};
  const state = e.state ?? 'present';
  const set = e.set_children?.map((c, i) => normaliseChild(c, `set_children[${i}]`));
  const add = e.add_children?.map((c, i) => normaliseChild(c, `add_children[${i}]`));
  const doc = parseXml(text, file);
  const source = mapSource(doc, text);
  const matched = selectNodes(doc, e.xpath, ns);
  const count = matched.length;
  if (e.count) return { after: text, changed: false, msg: `found ${count} node(s)`, count };
  const layout = detectLayout(doc);
  const done: string[] = [];
  const note = (n: number, what: string): void => {
    if (n) done.push(`${what} (${n})`);
  };

  if (state === 'absent') {
    if (e.attribute !== undefined) {
      note(matched.filter((n) => isEl(n) && removeAttr(n, e.attribute!, ns)).length, `attribute ${e.attribute} removed`);
    } else {
      for (const n of matched) {
        if (n.nodeType === DOCUMENT || n === doc.documentElement) throw new XmlEditError(`xpath '${e.xpath}' selects the ${n.nodeType === DOCUMENT ? 'document' : 'root element'}, which cannot be removed`);
        if (n.nodeType === ATTRIBUTE) {
          const owner = (n as unknown as { ownerElement: Element | null }).ownerElement;
          owner?.removeAttributeNode(n as never);
        } else removeFormatted(n);
      }
      note(count, 'removed');
    }
  } else {
    let targets = matched;
    const attrName = e.attribute;
    if (!targets.length) {
      const split = splitLastStep(e.xpath);
      const step = split && parseStep(split.step);
      if (!split || !step) {
        throw new XmlEditError(`xpath '${e.xpath}' matches nothing${nsHint(doc, e.xpath)}; it cannot be created either: its last step must be a child element (tag, tag[@attr='v'], tag[child='v']), @attr or text()`);
      }
      const parents = selectNodes(doc, split.parent, ns).filter(isEl);
      if (!parents.length) {
        throw new XmlEditError(`xpath '${e.xpath}' matches nothing, and no element matches its parent '${split.parent}' either${nsHint(doc, split.parent)} (only the last step is created)`);
      }
      if (step.kind === 'element') {
        targets = parents.map((p) => buildElement(p, step.el, ns, layout));
        note(targets.length, `${step.el.name} created`);
      } else if (step.kind === 'attribute') {
        if (attrName !== undefined || set || add) throw new XmlEditError(`xpath '${e.xpath}' selects an attribute: give it a value, not attribute or children`);
        note(parents.filter((p) => setAttr(p, step.name, e.value === undefined ? '' : str(e.value), ns)).length, `attribute ${step.name} set`);
        targets = [];
      } else {
        if (attrName !== undefined || set || add) throw new XmlEditError(`xpath '${e.xpath}' selects text: give it a value, not attribute or children`);
        note(parents.filter((p) => setText(p, e.value === undefined ? '' : str(e.value))).length, 'text set');
        targets = [];
      }
    }
    const elements = (what: string): Element[] =>
      targets.map((t) => {
        if (!isEl(t)) throw new XmlEditError(`${what} needs elements; xpath '${e.xpath}' selects ${describe(t)}`);
        return t;
      });
    if (e.value !== undefined && attrName !== undefined) {
      const name = attrName;
      note(elements(`attribute ${name}`).filter((t) => setAttr(t, name, str(e.value!), ns)).length, `attribute ${name} set`);
    } else if (e.value !== undefined) {
      note(targets.filter((t) => setText(t, str(e.value!))).length, 'text set');
    } else if (set) {
      let n = 0;
      for (const t of elements('set_children')) {
        const kids = elementChildren(t);
        const mixed = Array.from(t.childNodes).some((k) => (k.nodeType === TEXT || k.nodeType === CDATA) && !isWs(k));
        if (!mixed && kids.length === set.length && kids.every((k, i) => sameElement(k, set[i]!, ns))) continue;
        clearChildren(t);
        for (const c of set) buildElement(t, c, ns, layout);
        n++;
      }
      note(n, 'children set');
    } else if (add) {
      let n = 0;
      for (const t of elements('add_children')) {
        for (const c of add) {
          if (elementChildren(t).some((k) => sameElement(k, c, ns))) continue;
          buildElement(t, c, ns, layout);
          n++;
        }
      }
      note(n, 'children added');
    }
  }

  if (e.pretty_print) prettyPrint(doc, layout.unit);
  if (!done.length && !e.pretty_print) return { after: text, changed: false, msg: `${count} node(s) matched, nothing to change`, count };
  const after = (source && spliceSource(doc, source, serializeNode)) ?? serializeXml(doc, text);
  return { after, changed: after !== text, msg: after !== text ? done.join(', ') || 'pretty printed' : `${count} node(s) matched, nothing to change`, count };
}

// ---- the module --------------------------------------------------------------------------------

const childList = { type: 'array', items: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object', minProperties: 1, maxProperties: 1 }] } };

export const xmlModule: ModuleDef<XmlArgs> = {
  name: 'xml',
  aliases: ['community.general.xml'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      xpath: { type: 'string', minLength: 1 },
      namespaces: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
      state: { enum: ['present', 'absent'] },
      value: { type: ['string', 'number', 'boolean'] },
      attribute: { type: 'string', minLength: 1 },
      set_children: childList,
      add_children: childList,
      count: { type: 'boolean' },
      pretty_print: { type: 'boolean' },
      backup: { type: 'boolean' },
      ...ATTR_PROPS,
    },
    required: ['path', 'xpath'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    try {
      checkEdit(args);
    } catch (e) {
      if (e instanceof XmlEditError) return fail(e.message);
      throw e;
    }
    const actions = { xpath: args.xpath, namespaces: args.namespaces ?? {}, state: args.state ?? 'present' };
    let codec: { enc: XmlEncoding; bom: boolean } = { enc: 'utf8', bom: false };
    try {
      const r = await editRemoteText(
        ctx,
        {
          path: args.path,
          backup: args.backup,
          mode: args.mode,
          owner: args.owner,
          group: args.group,
          decode: (raw) => {
            codec = xmlEncoding(raw);
            return decodeXml(raw, codec.enc, codec.bom);
          },
          encode: (text) => encodeXml(text, codec.enc, codec.bom),
          onMissing: () => fail(`The target XML source ${args.path} does not exist.`),
        },
        (before) => {
          const r = editXml(before, args, args.path);
          return { after: r.after, changed: r.changed, msg: r.msg, extra: { actions, ...(args.count ? { count: r.count } : { matches: r.count }) } };
        },
      );
      return r;
    } catch (e) {
      if (e instanceof XmlEditError) return fail(e.message, { actions });
      throw e;
    }
  },
};
