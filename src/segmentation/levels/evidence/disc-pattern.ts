/**
 * The disc pattern: every lumbar vertebra is separated from the next by a disc, and the L5/S1 disc is the last one:
 * below S1 the sacral segments are fused. So an S1 candidate with a disc-sized gap and a vertebra-sized element
 * below it is not S1 (strong against: the candidate is L5 or higher, and the network called a lumbar body sacrum).
 * Gaps are measured along the column line (../column.ts) and compared with the column's median gap. The gap above
 * S1 is NOT used as evidence: measured along the line through L5 it meets S1's tilted promontory, so a healthy
 * L5/S1 disc measures 0-4 mm there at both real sites, no different from a fused segment.
 */
import type { Column } from '../column.js';
import { fmtZ } from '../column.js';
import type { Evidence, Vote } from './types.js';

export const DISC = {
  /** a gap of at least this fraction of the median disc gap is a disc */
  disc: 0.5,
  /** an element below the candidate counts as a vertebra when at least this fraction of the median element volume */
  vertebra: 0.5,
};

export function discPatternEvidence(col: Column): Evidence {
  const name = 'disc pattern';
  const e = col.elements;
  const med = col.discGap;
  const medVol = [...e.map((x) => x.vol)].sort((a, b) => a - b)[e.length >> 1] ?? NaN;
  const votes: Vote[] = [];
  if (!(med > 0)) return { name, votes, summary: 'no disc gaps measured' };
  for (let n = 1; n < e.length; n++) {
    const below = col.links[n + 1];
    if (below && below.gapMm >= DISC.disc * med && e[n + 1].vol >= DISC.vertebra * medVol) {
      votes.push({ s1: n, support: 'against', strength: 'strong', why: `a ${below.gapMm.toFixed(0)} mm disc and a vertebra (${(e[n + 1].vol / 1000).toFixed(0)} cm3) lie below the element at ${fmtZ(e[n].centroid[2])}` });
    }
  }
  const gaps = col.links.slice(1).map((l) => l!.gapMm.toFixed(0)).join(', ');
  return { name, votes, summary: `gaps top to bottom ${gaps} mm (median ${med.toFixed(0)} mm)` };
}
