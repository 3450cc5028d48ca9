import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { renderMarkdown } from '../../src/admin/markdown.js';

describe('model card Markdown', () => {
  it('renders headings, lists, tables, code and inline markup', () => {
    const html = renderMarkdown(['# Card', '', 'Some **bold** and *it* and `x<y`.', '', '- one', '- two', '', '1. a', '2. b', '', '| k | v |', '|---|---:|', '| Dice | 0.91 |', '', '```', 'a < b && c', '```'].join('\n'));
    expect(html).toContain('<h1>Card</h1>');
    expect(html).toContain('<p>Some <strong>bold</strong> and <em>it</em> and <code>x&lt;y</code>.</p>');
    expect(html).toContain('<ul><li>one</li><li>two</li></ul>');
    expect(html).toContain('<ol><li>a</li><li>b</li></ol>');
    expect(html).toContain('<table><thead><tr><th>k</th><th>v</th></tr></thead><tbody><tr><td>Dice</td><td>0.91</td></tr></tbody></table>');
    expect(html).toContain('<pre><code>a &lt; b &amp;&amp; c</code></pre>');
  });

  it('never lets HTML or script URLs through', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\n# <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [ok](https://example.org/a?b=1&c=2) "q"');
    expect(html).not.toMatch(/<script|<img|javascript:/i);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">ok</a>');
    expect(html).toContain('&quot;q&quot;');
  });

  it('renders the shipped segmentation model card without leftover Markdown table or heading syntax', () => {
    const html = renderMarkdown(readFileSync(new URL('../../models/vertebrae-seg.md', import.meta.url), 'utf8'));
    expect(html).toMatch(/<h1>/);
    expect(html).not.toMatch(/^#/m);
    expect(html).not.toMatch(/\|---/);
  });
});
