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
`;
