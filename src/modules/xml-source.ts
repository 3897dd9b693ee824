// The source text of an XML document, node by node, so an edit can be written back as a splice
// into the original bytes: untouched comments, attribute order and quoting, whitespace and
// multi-line tags stay exactly as they were, and a one-value change is a one-line diff.
// xmldom does the parsing, validation and XPath work; this scanner only finds where each node
// starts and ends. When its tree and xmldom's disagree (an unusual document), the caller falls
// back to serializing the whole DOM.
import type { Document, Element, Node as XNode } from '@xmldom/xmldom';

interface AttrTok {
  name: string;
  /** Start of the whitespace before the name (removing the attribute removes it too). */
  lead: number;
  valueStart: number;
  valueEnd: number;
  quote: string;
}

interface Tok {
  kind: 'element' | 'text' | 'cdata' | 'comment' | 'pi' | 'doctype';
  start: number;
  end: number;
  name?: string;
  attrs?: AttrTok[];
  /** End of the start tag (after `>`). */
  openEnd?: number;
  /** Start of the end tag (`</`); equals end for a self-closing tag. */
  closeStart?: number;
  selfClosing?: boolean;
  children?: Tok[];
}

class ScanError extends Error {}

const NAME = /[^\s/>=]+/y;

/** Scans the document into a tree of source ranges (no validation: xmldom has done that). */
function scan(text: string): Tok[] {
  let i = 0;
  const root: Tok[] = [];
  const stack: Tok[] = [];
  const push = (t: Tok): void => {
    (stack.length ? stack[stack.length - 1]!.children! : root).push(t);
  };
  const find = (s: string, from: number): number => {
    const k = text.indexOf(s, from);
    if (k < 0) throw new ScanError(`unterminated ${s}`);
    return k;
  };
  while (i < text.length) {
    if (text[i] !== '<') {
      const k = text.indexOf('<', i);
      const end = k < 0 ? text.length : k;
      if (stack.length) push({ kind: 'text', start: i, end });
      i = end;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const end = find('-->', i + 4) + 3;
      push({ kind: 'comment', start: i, end });
      i = end;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = find(']]>', i + 9) + 3;
      push({ kind: 'cdata', start: i, end });
      i = end;
    } else if (text.startsWith('<?', i)) {
      const end = find('?>', i + 2) + 2;
      push({ kind: 'pi', start: i, end });
      i = end;
    } else if (text.startsWith('<!', i)) {
      // DOCTYPE, with an internal subset in brackets.
      let k = i + 2;
      let depth = 0;
      let quote = '';
      for (; k < text.length; k++) {
        const c = text[k]!;
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      push({ kind: 'doctype', start: i, end: k + 1 });
      i = k + 1;
    } else if (text[i + 1] === '/') {
      const end = find('>', i) + 1;
      const el = stack.pop();
      if (!el) throw new ScanError('end tag without a start tag');
      el.closeStart = i;
      el.end = end;
      i = end;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(text);
      if (!m) throw new ScanError('tag without a name');
      const el: Tok = { kind: 'element', start: i, end: -1, name: m[0], attrs: [], children: [] };
      let k = i + 1 + m[0].length;
      for (;;) {
        const lead = k;
        while (/\s/.test(text[k] ?? '')) k++;
        if (text[k] === '>' || text.startsWith('/>', k)) break;
        NAME.lastIndex = k;
        const a = NAME.exec(text);
        if (!a) throw new ScanError('bad attribute');
        k += a[0].length;
        while (/\s/.test(text[k] ?? '')) k++;
        if (text[k] !== '=') throw new ScanError('attribute without a value');
        k++;
        while (/\s/.test(text[k] ?? '')) k++;
        const quote = text[k]!;
        if (quote !== '"' && quote !== "'") throw new ScanError('unquoted attribute');
        const close = find(quote, k + 1);
        el.attrs!.push({ name: a[0], lead, valueStart: k + 1, valueEnd: close, quote });
        k = close + 1;
      }
      push(el);
      if (text[k] === '/') {
        el.openEnd = k + 2;
        el.closeStart = k + 2;
        el.end = k + 2;
        el.selfClosing = true;
      } else {
        el.openEnd = k + 1;
        stack.push(el);
      }
      i = el.openEnd;
    }
  }
  if (stack.length) throw new ScanError('unclosed element');
  return root;
}

const ELEMENT = 1;
const KIND: Record<number, Tok['kind']> = { 1: 'element', 3: 'text', 4: 'cdata', 7: 'pi', 8: 'comment' };

/** What a node was before the edit. */
interface Before {
  tok: Tok;
  children: XNode[];
  attrs: Map<string, string>;
  value: string | null;
}

/** A parsed document with the source range and the original state of each of its nodes. */
export interface SourceMap {
  text: string;
  root: Element;
  nodes: Map<XNode, Before>;
  top: { node: XNode; value: string | null }[];
}

function attrMap(el: Element): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of Array.from(el.attributes)) m.set(a.name, a.value);
  return m;
}

function bind(node: XNode, tok: Tok, nodes: Map<XNode, Before>): void {
  if (KIND[node.nodeType] !== tok.kind) throw new ScanError('node kinds differ');
  const children = Array.from(node.childNodes);
  if (node.nodeType === ELEMENT) {
    const el = node as Element;
    if (el.nodeName !== tok.name) throw new ScanError('element names differ');
    const kids = tok.children!;
    if (kids.length !== children.length) throw new ScanError('child counts differ');
    children.forEach((c, i) => bind(c, kids[i]!, nodes));
    nodes.set(node, { tok, children, attrs: attrMap(el), value: null });
  } else {
    nodes.set(node, { tok, children, attrs: new Map(), value: node.nodeValue });
  }
}

/** Records the source ranges of a freshly parsed document; undefined when they cannot be matched. */
export function mapSource(doc: Document, text: string): SourceMap | undefined {
  const root = doc.documentElement;
  if (!root) return undefined;
  try {
    const top = scan(text).filter((t) => t.kind === 'element');
    if (top.length !== 1) return undefined;
    const nodes = new Map<XNode, Before>();
    bind(root, top[0]!, nodes);
    const topNodes = Array.from(doc.childNodes).map((node) => ({ node, value: node.nodeValue }));
    return { text, root, nodes, top: topNodes };
  } catch (e) {
    if (e instanceof ScanError) return undefined;
    throw e;
  }
}

const escText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escAttr = (s: string, q: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(q === '"' ? /"/g : /'/g, q === '"' ? '&quot;' : '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

/**
 * The edited document as text: every node that is as it was is copied from the source; changed
 * attribute values replace just their value, changed text just the text, new nodes are written
 * by `fresh` (xmldom's serializer), removed ones leave nothing. Undefined when a node outside
 * the root element changed (then the caller serializes the whole document).
 */
export function spliceSource(doc: Document, map: SourceMap, fresh: (n: XNode) => string): string | undefined {
  if (doc.documentElement !== map.root) return undefined;
  const { text, nodes } = map;
  const crlf = text.includes('\r\n');
  const newText = (s: string): string => (crlf ? s.replace(/\r?\n/g, '\r\n') : s);

  const startTag = (el: Element, b: Before): string => {
    const t = b.tok;
    const now = attrMap(el);
    let out = '';
    let at = t.start;
    let lastEnd = t.start + 1 + t.name!.length;
    for (const a of t.attrs!) {
      const v = now.get(a.name);
      if (v === undefined) {
        out += text.slice(at, a.lead);
        at = a.valueEnd + 1;
      } else if (v !== b.attrs.get(a.name)) {
        out += text.slice(at, a.valueStart) + escAttr(v, a.quote);
        at = a.valueEnd;
      }
      lastEnd = a.valueEnd + 1;
    }
    // New attributes go after the last one the tag had, in double quotes.
    let added = '';
    for (const [k, v] of now) if (!b.attrs.has(k)) added += ` ${k}="${escAttr(v, '"')}"`;
    if (added) {
      if (at > lastEnd) {
        // The last attribute was removed: the new ones go where the removed span began.
        out += added;
      } else {
        out += text.slice(at, lastEnd) + added;
        at = lastEnd;
      }
    }
    return out + text.slice(at, t.openEnd);
  };

  const emit = (n: XNode): string => {
    const b = nodes.get(n);
    if (!b) return newText(fresh(n));
    const t = b.tok;
    if (n.nodeType !== ELEMENT) {
      if (n.nodeValue === b.value) return text.slice(t.start, t.end);
      const v = n.nodeValue ?? '';
      if (t.kind === 'text') return newText(escText(v));
      if (t.kind === 'cdata') return `<![CDATA[${v}]]>`;
      if (t.kind === 'comment') return `<!--${v}-->`;
      return newText(fresh(n));
    }
    const el = n as Element;
    const kids = Array.from(el.childNodes);
    let open = startTag(el, b);
    let body: string;
    let close: string;
    if (t.selfClosing) {
      if (!kids.length) return open;
      open = open.replace(/\s*\/>$/, '>');
      body = kids.map(emit).join('');
      close = `</${el.nodeName}>`;
    } else {
      close = text.slice(t.closeStart, t.end);
      body = kids.map(emit).join('');
    }
    return open + body + close;
  };

  // Nodes beside the root (prolog comments, PIs) are not edited in place: they must be as they were.
  const top = Array.from(doc.childNodes);
  if (top.length !== map.top.length || top.some((c, i) => c !== map.top[i]!.node || c.nodeValue !== map.top[i]!.value)) return undefined;
  const rt = nodes.get(map.root)!.tok;
  return text.slice(0, rt.start) + emit(map.root) + text.slice(rt.end);
}
