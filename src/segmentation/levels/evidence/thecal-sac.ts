/**
 * The end of the thecal sac: the dural sac ends at S1-S3 (mostly S2), so L5 lies above its end. Where the sac
 * visibly ends in the field of view (the CSF class stops well above the lower edge), a candidate S1 whose L5 would
 * lie below the end of the sac is unlikely. Weak: a tight stenosis interrupts the CSF signal and can mimic an end.
 */
import type { Column } from '../column.js';
import { fmtZ } from '../column.js';
import type { Evidence, Vote } from './types.js';

export const THECAL_SAC = {
  /** the sac "ends" in view when its lowest point is at least this far above the field of view's lower edge (mm) */
  inViewMm: 15,
};

export function thecalSacEvidence(col: Column): Evidence {
  const name = 'thecal sac';
  const canal = col.canal;
  if (!canal) return { name, votes: [], summary: 'no thecal sac found' };
  if (canal.zMin - col.fovBottom < THECAL_SAC.inViewMm) return { name, votes: [], summary: `the sac runs to the lower edge of the field of view (${fmtZ(canal.zMin)})` };
  const votes: Vote[] = [];
  const e = col.elements;
  for (let n = 1; n < e.length; n++) {
    if (e[n - 1].centroid[2] < canal.zMin) {
      votes.push({ s1: n, support: 'against', strength: 'weak', why: `its L5 (${fmtZ(e[n - 1].centroid[2])}) would lie below the end of the thecal sac (${fmtZ(canal.zMin)})` });
    }
  }
  return { name, votes, summary: `the sac ends at ${fmtZ(canal.zMin)}` };
}
