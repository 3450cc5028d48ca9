/** Query-string parsing shared by the admin routes: bad input is a 400 with a clear message, never a 500. */
import { OsteoError } from '../common/errors.js';

export function parseTime(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new OsteoError('bad-filter', `${name} must be an ISO date/time or epoch milliseconds`, 400);
  return t;
}

export function parseLimit(v: string | null, def: number): number {
  if (v === null || v === '') return def;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new OsteoError('bad-filter', 'limit must be an integer 1..10000', 400);
  return n;
}

export function parseFlagged(v: string | null): boolean | undefined {
  if (v === null || v === '') return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new OsteoError('bad-filter', 'flagged must be true or false', 400);
}
