/**
 * The network's sacrum class: S1 is the first element, from the top, that is mostly sacrum. Strong when the
 * transition is clean (S1 at least 70 % sacrum, the element above it at most 15 % sacrum in its cranial half and
 * at most 30 % overall: partial volume at L5's lower endplate, next to the sacrum, does not make L5 "mixed"); weak when
 * an element next to it is mixed (a transitional vertebra, or the network unsure which of two elements is S1): then
 * both are candidates.
 */
import type { Column } from '../column.js';
import { fmtZ } from '../column.js';
import type { Evidence, Vote } from './types.js';

export const SACRUM_CLASS = {
  /** an element at least this fraction sacrum is sacral */
  sacral: 0.5,
  /** a clean S1 */
  clean: 0.7,
  /** a clean L5 (above S1): at most this fraction sacrum in its cranial half ... */
  cleanAbove: 0.15,
  /** ... and at most this fraction overall (partial volume at its lower endplate, not half the body) */
  cleanAboveAll: 0.3,
  /** a sacral element must be at least this large (mm^3) */
  minMm3: 4000,
};

export function sacrumClassEvidence(col: Column): Evidence {
  const name = 'sacrum class';
  const e = col.elements;
  const s = e.findIndex((x, n) => n >= 1 && x.sacFrac >= SACRUM_CLASS.sacral && x.vol >= SACRUM_CLASS.minMm3);
  if (s < 0) return { name, votes: [], summary: 'no element of the column is mostly sacrum' };
  const pct = (n: number) => `${Math.round(100 * e[n].sacFrac)} %`;
  const above = e[s - 1].sacFracUpper;
  const votes: Vote[] = [];
  if (e[s].sacFrac >= SACRUM_CLASS.clean && above <= SACRUM_CLASS.cleanAbove && e[s - 1].sacFrac <= SACRUM_CLASS.cleanAboveAll) {
    const up = `${pct(s - 1)}, ${Math.round(100 * above)} % in its cranial half`;
    votes.push({ s1: s, support: 'for', strength: 'strong', why: `the element at ${fmtZ(e[s].centroid[2])} is ${pct(s)} sacrum, the one above it ${up}` });
    return { name, votes, summary: `S1 at ${fmtZ(e[s].centroid[2])} (${pct(s)} sacrum; above it ${up})` };
  }
  // Mixed: the element found and its neighbour (above if that one is partly sacrum, else below) are both candidates.
  votes.push({ s1: s, support: 'for', strength: 'weak', why: `the element at ${fmtZ(e[s].centroid[2])} is ${pct(s)} sacrum, the one above it ${pct(s - 1)}` });
  const alt = above > SACRUM_CLASS.cleanAbove || e[s - 1].sacFrac > SACRUM_CLASS.cleanAboveAll ? s - 1 : s + 1 < e.length && e[s + 1].sacFrac >= SACRUM_CLASS.sacral ? s + 1 : -1;
  if (alt >= 1) votes.push({ s1: alt, support: 'for', strength: 'weak', why: `mixed body/sacrum next to it: the element at ${fmtZ(e[alt].centroid[2])} (${pct(alt)} sacrum) may be S1` });
  return {
    name,
    votes,
    eitherOr: alt >= 1 ? [s, alt] : undefined,
    summary: `mixed body/sacrum around ${fmtZ(e[s].centroid[2])}: ${votes.map((v) => `${fmtZ(e[v.s1].centroid[2])} ${pct(v.s1)}`).join(', ')} sacrum (${Math.round(100 * e[s - 1].sacFracUpper)} % in the cranial half of the one above)`,
  };
}
