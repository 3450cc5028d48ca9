/**
 * Backfill pacing, pure: the allowed time window (a cron-style minute pattern), the hourly budget and the
 * back-off delay. The campaign runner (campaign.ts) asks these before each retrieval.
 */
import cron from 'node-cron';

/** One cron field: `*`, `5`, `1-5`, `1,3,5`, `* /15` (without the space), `0-30/10`. */
function fieldMatches(field: string, value: number, min: number, max: number): boolean {
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(Number) as [number, number];
    else [lo, hi] = [Number(range), stepText === undefined ? Number(range) : max];
    if (value >= lo && value <= hi && (value - lo) % step === 0) return true;
  }
  return false;
}

/** Whether a 5-field cron pattern is usable here (node-cron's own check, 5 fields, numbers only). */
export function scheduleProblem(schedule: string): string | null {
  if (!schedule.trim()) return null;
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return `backfill.schedule "${schedule}": expected 5 fields (minute hour day-of-month month day-of-week)`;
  if (!cron.validate(schedule)) return `backfill.schedule "${schedule}" is not a valid cron pattern`;
  if (fields.some((f) => !/^[\d*,\-/]+$/.test(f))) return `backfill.schedule "${schedule}": use numbers, *, ranges, lists and steps only`;
  return null;
}

/** Whether retrievals may start at `at` (local time): its minute matches the pattern; empty = always. */
export function inWindow(schedule: string, at: Date): boolean {
  const s = schedule.trim();
  if (!s) return true;
  const [mi, h, dom, mon, dow] = s.split(/\s+/) as [string, string, string, string, string];
  const day = at.getDay();
  return (
    fieldMatches(mi, at.getMinutes(), 0, 59) &&
    fieldMatches(h, at.getHours(), 0, 23) &&
    fieldMatches(dom, at.getDate(), 1, 31) &&
    fieldMatches(mon, at.getMonth() + 1, 1, 12) &&
    (fieldMatches(dow, day, 0, 7) || (day === 0 && fieldMatches(dow, 7, 0, 7)))
  );
}

/** Next back-off delay (s): the first is `base`, each further one doubles, at most one hour. */
export function nextBackoff(previousSeconds: number, base: number): number {
  if (base <= 0) return 0;
  return Math.min(3600, previousSeconds > 0 ? previousSeconds * 2 : base);
}

/** How many retrievals may start now: the free concurrency slots and what is left of the hourly budget. */
export function retrievalSlots(p: { maxConcurrent: number; maxPerHour: number; active: number; startedLastHour: number }): number {
  const byConcurrency = Math.max(0, p.maxConcurrent - p.active);
  const byHour = p.maxPerHour > 0 ? Math.max(0, p.maxPerHour - p.startedLastHour) : Infinity;
  return Math.min(byConcurrency, byHour);
}

/** Studies per hour and ETA (s) from the finished count over an elapsed time; null when nothing finished yet. */
export function paceAndEta(finished: number, elapsedMs: number, remaining: number): { perHour: number | null; etaSeconds: number | null } {
  if (finished <= 0 || elapsedMs <= 0) return { perHour: null, etaSeconds: null };
  const perHour = (finished / elapsedMs) * 3_600_000;
  return { perHour, etaSeconds: remaining > 0 ? (remaining / perHour) * 3600 : 0 };
}
