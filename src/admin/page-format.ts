/**
 * Formatting helpers the admin page script needs (prepended to PAGE_JS): the report's own rounding rules
 * (src/report/numbers.ts, embedded from their source so page and reports cannot disagree) and readable labels
 * for the keys of segmentation results.
 */
import { forPeople, scoreVsCutoff } from '../report/numbers.js';

/** Column labels for segmentation level / QA keys; unknown keys become words ("someKeyMm" -> "Some key mm"). */
export const KEY_LABELS: Record<string, string> = {
  level: 'Level',
  label: 'Label',
  volumeMm3: 'Volume (mm³)',
  midSlice: 'Mid-sagittal slice',
  heightMm: 'Height (mm)',
  ok: 'QA',
  reason: 'Reason',
};

export const PAGE_FORMAT_JS = `
  var scoreVsCutoff = ${scoreVsCutoff.toString()};
  var forPeople = ${forPeople.toString()};
  var KEY_LABELS = ${JSON.stringify(KEY_LABELS)};
  function keyLabel(k) {
    if (KEY_LABELS[k]) return KEY_LABELS[k];
    var w = String(k).replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
    return w.charAt(0).toUpperCase() + w.slice(1);
  }
  function fmtPeople(x) { return x === null || x === undefined || x === '' || !isFinite(x) ? '—' : forPeople(Number(x)); }
  /** "0.5248 (cut-off 0.5250, just below the cut-off)" */
  function fmtScore(score, cutoff) {
    if (score === null || score === undefined || !isFinite(score)) return '—';
    if (cutoff === null || cutoff === undefined || !isFinite(cutoff)) return fmtPeople(score);
    var p = scoreVsCutoff(Number(score), Number(cutoff));
    return p.score + ' (cut-off ' + p.cutoff + (p.nearness ? ', ' + p.nearness : '') + ')';
  }
  /** DOM for parsed Markdown blocks (src/admin/markdown.ts): elements and text nodes only, never HTML. */
  function markdownNode(blocks) {
    function spans(list) {
      return list.map(function (s) {
        var tag = { code: 'code', strong: 'strong', em: 'em', a: 'a' }[s.k];
        if (!tag) return document.createTextNode(s.t);
        var e = document.createElement(tag);
        e.textContent = s.t;
        if (tag === 'a') { e.setAttribute('href', s.href); e.setAttribute('rel', 'noopener noreferrer'); }
        return e;
      });
    }
    function node(tag, children) { var e = document.createElement(tag); children.forEach(function (c) { e.appendChild(c); }); return e; }
    var root = document.createElement('div');
    root.className = 'model-card';
    blocks.forEach(function (b) {
      if (b.k === 'h') root.appendChild(node('h' + Math.min(6, Math.max(1, b.level)), spans(b.s)));
      else if (b.k === 'p') root.appendChild(node('p', spans(b.s)));
      else if (b.k === 'ul' || b.k === 'ol') root.appendChild(node(b.k, b.items.map(function (it) { return node('li', spans(it)); })));
      else if (b.k === 'pre') { var pre = document.createElement('pre'); pre.textContent = b.t; root.appendChild(pre); }
      else if (b.k === 'table') root.appendChild(node('table', [
        node('thead', [node('tr', b.head.map(function (c) { return node('th', spans(c)); }))]),
        node('tbody', b.rows.map(function (r) { return node('tr', r.map(function (c) { return node('td', spans(c)); })); })),
      ]));
    });
    return root;
  }
`;
