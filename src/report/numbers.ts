/**
 * Numbers as people read them. One rule everywhere a person reads a number (summary image, SR text and the
 * NumericValue a viewer shows, admin page: it ships these very functions, see src/admin/page-format.ts); machines
 * read full precision elsewhere (the SR's FloatingPointValue (0040,A161) next to each NumericValue, the API's JSON).
 *
 * - Radscore and cut-off are shown together with the same number of decimals: 3, or more (up to 6) until the two
 *   differ, so the comparison can be read (0.52477 vs 0.525 -> "0.5248" vs "0.5250"). Within 0.01 of the cut-off
 *   the result also says "just below the cut-off" / "just above the cut-off" ("at the cut-off" if equal).
 * - Other values: 4 significant digits, numbers from 10 000 up to the unit (24000.5 -> "24001").
 * Both functions are self-contained (no outside names): the admin page embeds their source.
 */

export interface ScoreVsCutoff {
  score: string;
  cutoff: string;
  /** "just below the cut-off" / "just above the cut-off" / "at the cut-off" when within 0.01; otherwise undefined. */
  nearness?: string;
}

export function scoreVsCutoff(score: number, cutoff: number): ScoreVsCutoff {
  let d = 3;
  while (d < 6 && score.toFixed(d) === cutoff.toFixed(d)) d++;
  const diff = score - cutoff;
  const nearness = Math.abs(diff) >= 0.01 ? undefined : diff > 0 ? 'just above the cut-off' : diff < 0 ? 'just below the cut-off' : 'at the cut-off';
  return { score: score.toFixed(d), cutoff: cutoff.toFixed(d), nearness };
}

/** A value for people: 4 significant digits; from 10 000 on, rounded to the unit. At most 16 characters (DS). */
export function forPeople(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e4 && Math.abs(v) < 1e15) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}
