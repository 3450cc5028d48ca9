import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseMarkdown } from '../../src/admin/markdown.js';

describe('model card Markdown', () => {
  it('parses headings, paragraphs with inline markup, lists, tables and code blocks', () => {
    const b = parseMarkdown(['# Card', '', 'Some **bold** and *it* and `x<y`.', '', '- one', '- two', '', '1. a', '2. b', '', '| k | v |', '|---|---:|', '| Dice | 0.91 |', '', '```', 'a < b && c', '```'].join('\n'));
    expect(b).toEqual([
      { k: 'h', level: 1, s: [{ k: 'text', t: 'Card' }] },
      { k: 'p', s: [{ k: 'text', t: 'Some ' }, { k: 'strong', t: 'bold' }, { k: 'text', t: ' and ' }, { k: 'em', t: 'it' }, { k: 'text', t: ' and ' }, { k: 'code', t: 'x<y' }, { k: 'text', t: '.' }] },
      { k: 'ul', items: [[{ k: 'text', t: 'one' }], [{ k: 'text', t: 'two' }]] },
      { k: 'ol', items: [[{ k: 'text', t: 'a' }], [{ k: 'text', t: 'b' }]] },
      { k: 'table', head: [[{ k: 'text', t: 'k' }], [{ k: 'text', t: 'v' }]], rows: [[[{ k: 'text', t: 'Dice' }], [{ k: 'text', t: '0.91' }]]] },
      { k: 'pre', t: 'a < b && c' },
    ]);
  });

  it('keeps HTML as text and drops links with other schemes than http(s)', () => {
    const b = parseMarkdown('<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.org/a?b=1&c=2)');
    expect(b).toEqual([
      { k: 'p', s: [{ k: 'text', t: '<script>alert(1)</script> x) ' }, { k: 'a', t: 'ok', href: 'https://example.org/a?b=1&c=2' }] },
    ]);
  });

  it('parses the shipped segmentation model card into headings, tables and lists', () => {
    const b = parseMarkdown(readFileSync(new URL('../../models/vertebrae-seg.md', import.meta.url), 'utf8'));
    expect(b[0]!.k).toBe('h');
    expect(b.some((x) => x.k === 'table')).toBe(true);
    expect(b.some((x) => x.k === 'ul')).toBe(true);
    const texts = JSON.stringify(b);
    expect(texts).not.toMatch(/"t":"#+ /);
    expect(texts).not.toMatch(/\|---/);
  });
});
