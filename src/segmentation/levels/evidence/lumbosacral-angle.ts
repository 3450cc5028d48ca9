/**
 * The lumbosacral angle: above S1 the lumbar column bends gently (lordosis, a few degrees per level); the link from
 * L5 to S1 turns sharply backwards, because the sacrum is tilted. The sharpest backward turn of at least 20 degrees
 * points at S1. Always weak: a tilted L5, a listhesis or a kyphotic segment turns the column too.
 */
import type { Column } from '../column.js';
import { fmtZ } from '../column.js';
import type { Evidence } from './types.js';

export const LUMBOSACRAL = {
  /** a backward turn of the column of at least this many degrees marks the lumbosacral junction */
  turnDeg: 20,
};

export function lumbosacralAngleEvidence(col: Column): Evidence {
  const name = 'lumbosacral angle';
  let best = -1;
  for (let n = 2; n < col.elements.length; n++) {
    const t = col.links[n]!.turn;
    if (t >= LUMBOSACRAL.turnDeg && (best < 0 || t > col.links[best]!.turn)) best = n;
  }
  const turns = col.links.map((l, n) => (l && n >= 2 ? `${l.turn.toFixed(0)}` : null)).filter((x) => x !== null).join(', ');
  if (best < 0) return { name, votes: [], summary: `no backward turn of ${LUMBOSACRAL.turnDeg} degrees or more (turns top to bottom: ${turns})` };
  const z = fmtZ(col.elements[best].centroid[2]);
  return {
    name,
    votes: [{ s1: best, support: 'for', strength: 'weak', why: `the column turns back by ${col.links[best]!.turn.toFixed(0)} degrees at ${z}` }],
    summary: `S1 at ${z} (turn ${col.links[best]!.turn.toFixed(0)} degrees; turns top to bottom: ${turns})`,
  };
}
