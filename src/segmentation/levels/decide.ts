/**
 * THE decision: where is S1? It combines the votes of every piece of evidence (./evidence/) into one verdict.
 *
 * Each vote counts by its strength: strong for +3, weak for +1, weak against -1, strong against -3.
 * - S1 is the element with the highest total, accepted when
 *   1. its total is at least 3 (strong evidence, or several weak pieces that agree), and
 *   2. nothing strong speaks against it, and
 *   3. no other element comes within 2 of it (two places that the evidence cannot tell apart).
 * - An S1 at the lower edge of the field of view (its centre less than 0.8 level spacing above the edge: the sacrum
 *   below it is cut off) is accepted only when it is plainly S1: the sacrum class says so without doubt (strong),
 *   the column turns back at it (the lumbosacral angle: the sacral promontory), the L5/S1 disc is in view (S1 is
 *   an element of its own, below the body above it) and enough of S1 is in view (its top at least half a body
 *   height above the edge). Otherwise it cannot be told apart from an L5 cut by the edge, and it is refused.
 * - Where a piece of evidence says "S1 is one of these two elements" (the sacrum class with a mixed element) and
 *   strong evidence excludes one of them, the other gets a strong vote: the two together are strong evidence.
 * Every refusal names the evidence that conflicts or is missing.
 */
import type { Column } from './column.js';
import { fmtZ } from './column.js';
import type { Evidence, Vote } from './evidence/types.js';

export const DECISION = {
  weight: { strong: 3, weak: 1 },
  /** minimal total for an S1 */
  accept: 3,
  /** minimal lead over the next candidate */
  margin: 2,
  /** S1 is "at the lower edge" when its centre is less than this many level spacings above the edge */
  edgeLevels: 0.8,
  /** at the edge, S1's top must lie at least this many body heights above the edge (the promontory in view) */
  promontoryHeights: 0.5,
};

export interface Decision {
  /** index of S1 in the column's elements (top to bottom), when accepted */
  s1?: number;
  reason?: string;
  /** per candidate: total and the votes, for the debug output */
  lines: string[];
}

interface Tally {
  s1: number;
  score: number;
  votes: (Vote & { from: string })[];
}

export function decideS1(col: Column, evidence: Evidence[]): Decision {
  const e = col.elements;
  const lines = evidence.map((x) => `${x.name}: ${x.summary}`);
  const tallies = new Map<number, Tally>();
  for (const ev of evidence) {
    for (const v of ev.votes) {
      const t = tallies.get(v.s1) ?? { s1: v.s1, score: 0, votes: [] };
      t.score += (v.support === 'for' ? 1 : -1) * DECISION.weight[v.strength];
      t.votes.push({ ...v, from: ev.name });
      tallies.set(v.s1, t);
    }
  }
  // "One of two" narrowed by strong evidence against one of them.
  for (const ev of evidence) {
    if (!ev.eitherOr) continue;
    const [a, b] = ev.eitherOr;
    const out = (n: number) => tallies.get(n)?.votes.find((v) => v.support === 'against' && v.strength === 'strong');
    for (const [keep, drop] of [
      [a, b],
      [b, a],
    ]) {
      const x = out(drop);
      if (!x || out(keep)) continue;
      const t = tallies.get(keep)!;
      t.score += DECISION.weight.strong - DECISION.weight.weak;
      t.votes.push({ s1: keep, support: 'for', strength: 'strong', why: `of the two elements it names, ${x.from} excludes the one at ${fmtZ(e[drop].centroid[2])} (${x.why})`, from: ev.name });
      lines.push(`${ev.name}: S1 is ${fmtZ(e[a].centroid[2])} or ${fmtZ(e[b].centroid[2])}; ${x.from} excludes ${fmtZ(e[drop].centroid[2])}`);
    }
  }
  // Only elements that some evidence puts forward as S1 are candidates.
  const cands = [...tallies.values()].filter((t) => t.votes.some((v) => v.support === 'for')).sort((a, b) => b.score - a.score || a.s1 - b.s1);
  for (const t of cands) lines.push(`S1 candidate ${fmtZ(e[t.s1].centroid[2])}: total ${t.score} (${t.votes.map((v) => `${v.from} ${v.support === 'for' ? '+' : '-'}${v.strength}`).join(', ')})`);
  if (!cands.length) return { reason: 'sacrum (S1) not found in the field of view: lumbar levels cannot be identified', lines };
  const say = (t: Tally, support: 'for' | 'against') =>
    t.votes
      .filter((v) => v.support === support)
      .map((v) => `${v.from}: ${v.why}`)
      .join('; ');
  const best = cands[0];
  const z = fmtZ(e[best.s1].centroid[2]);
  const strongAgainst = best.votes.filter((v) => v.support === 'against' && v.strength === 'strong');
  if (strongAgainst.length) {
    return { reason: `level identification ambiguous: evidence conflicts at S1 ${z} (for: ${say(best, 'for')}; against: ${say(best, 'against')})`, lines };
  }
  const second = cands[1];
  if (second && second.score > best.score - DECISION.margin) {
    return {
      reason: `level identification ambiguous: S1 at ${z} (${say(best, 'for')}) or at ${fmtZ(e[second.s1].centroid[2])} (${say(second, 'for')})`,
      lines,
    };
  }
  if (best.score < DECISION.accept) {
    const against = say(best, 'against');
    return { reason: `level identification uncertain: only weak evidence for S1 at ${z} (${say(best, 'for')}${against ? `; against: ${against}` : ''})`, lines };
  }
  // S1 at the lower edge of the field of view: only when plainly S1.
  const s = e[best.s1];
  if (s.centroid[2] - col.fovBottom < DECISION.edgeLevels * col.spacing) {
    const missing: string[] = [];
    const has = (from: string, strength?: string) => best.votes.some((v) => v.from === from && v.support === 'for' && (!strength || v.strength === strength));
    if (!has('sacrum class', 'strong')) missing.push('the sacrum class is not clear-cut');
    if (!has('lumbosacral angle')) missing.push('the column does not turn back at it (no lumbosacral angle)');
    const top = s.zMax - col.fovBottom;
    if (!(top >= DECISION.promontoryHeights * col.bodyHeight)) missing.push(`only ${top.toFixed(0)} mm of it in view`);
    if (missing.length) {
      return { reason: `level identification uncertain: S1 at the lower edge of the field of view (${z}) cannot be told apart from a cut L5: ${missing.join('; ')}`, lines };
    }
    lines.push(`S1 at the lower edge of the field of view: plainly S1 (sacrum class, lumbosacral angle, ${top.toFixed(0)} mm of it in view)`);
  }
  return { s1: best.s1, lines };
}
