/**
 * Minimal Markdown for model cards on the admin page: headings, paragraphs, bullet and numbered lists, pipe
 * tables, fenced code blocks, inline `code`, **bold**, *italic* and [text](url) links (http(s) or relative only).
 * Parsed here into plain data (blocks of text spans); the page builds DOM nodes from it with textContent, so no
 * markup from the card is ever interpreted as HTML (the page script never uses innerHTML).
 */
export type Span = { k: 'text' | 'code' | 'strong' | 'em'; t: string } | { k: 'a'; t: string; href: string };
export type Block =
  | { k: 'h'; level: number; s: Span[] }
  | { k: 'p'; s: Span[] }
  | { k: 'ul' | 'ol'; items: Span[][] }
  | { k: 'table'; head: Span[][]; rows: Span[][][] }
  | { k: 'pre'; t: string };

const INLINE = /\*\*([^*]+)\*\*|(^|[^*\w])\*([^*\s][^*]*)\*(?!\w)|\[([^\]]+)\]\(([^)\s]+)\)/g;
const safeHref = (url: string) => /^https?:\/\//i.test(url) || !/^[a-z][\w+.-]*:/i.test(url); // http(s) or relative

/** Inline spans of one line; code spans are literal. */
export function inlineSpans(raw: string): Span[] {
  const out: Span[] = [];
  const text = (t: string) => {
    if (!t) return;
    const last = out[out.length - 1];
    if (last?.k === 'text') last.t += t;
    else out.push({ k: 'text', t });
  };
  for (const part of raw.split(/(`[^`]+`)/)) {
    if (part.length > 1 && part.startsWith('`') && part.endsWith('`')) {
      out.push({ k: 'code', t: part.slice(1, -1) });
      continue;
    }
    let at = 0;
    for (const m of part.matchAll(INLINE)) {
      text(part.slice(at, m.index));
      if (m[1] !== undefined) out.push({ k: 'strong', t: m[1] });
      else if (m[3] !== undefined) {
        text(m[2] ?? '');
        out.push({ k: 'em', t: m[3] });
      } else if (safeHref(m[5]!)) out.push({ k: 'a', t: m[4]!, href: m[5]! });
      else text(m[4]!);
      at = m.index! + m[0].length;
    }
    text(part.slice(at));
  }
  return out;
}

const cells = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => inlineSpans(c.trim()));
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const LIST_ITEM = /^\s*([-*+]|\d+[.)])\s+(.*)$/;

export function parseMarkdown(md: string): Block[] {
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ k: 'p', s: inlineSpans(para.join(' ')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]!); i++) code.push(lines[i]!);
      out.push({ k: 'pre', t: code.join('\n') });
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      out.push({ k: 'h', level: h[1]!.length, s: inlineSpans(h[2]!.replace(/\s+#+\s*$/, '')) });
      continue;
    }
    if (TABLE_ROW.test(line) && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]!)) {
      flush();
      const head = cells(line);
      const rows: Span[][][] = [];
      for (i += 2; i < lines.length && TABLE_ROW.test(lines[i]!); i++) rows.push(cells(lines[i]!));
      i--;
      out.push({ k: 'table', head, rows });
      continue;
    }
    const li = LIST_ITEM.exec(line);
    if (li) {
      flush();
      const ordered = /\d/.test(li[1]!);
      const items: string[] = [];
      for (; i < lines.length; i++) {
        const m = LIST_ITEM.exec(lines[i]!);
        if (m && /\d/.test(m[1]!) === ordered) items.push(m[2]!);
        else if (items.length && /^\s{2,}\S/.test(lines[i]!)) items[items.length - 1] += ' ' + lines[i]!.trim();
        else break;
      }
      i--;
      out.push({ k: ordered ? 'ol' : 'ul', items: items.map(inlineSpans) });
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line.trim());
  }
  flush();
  return out;
}
