/**
 * Storing checked outcomes in batches: each batch is one short SQLite transaction and the event loop gets a turn
 * between batches, so a large import never stalls the DICOM listener or the admin API of the same process (and a
 * separate `osteoscreen outcomes import` process holds the write lock only briefly). A bad row is reported with its
 * line (or index) and never stops the good ones.
 */
import path from 'node:path';
import type { Store, Outcome } from '../store/index.js';
import { logger } from '../common/log.js';
import { checkOutcome, readOutcomeCsv, type RawOutcome } from './record.js';

const log = logger('outcomes');
const BATCH = 2000;

export interface ImportResult {
  stored: number;
  rejected: { line?: number; index?: number; error: string }[];
  ignoredColumns?: string[];
}

const turn = () => new Promise<void>((r) => setImmediate(r));

async function storeBatches(store: Store, list: Outcome[]): Promise<void> {
  for (let i = 0; i < list.length; i += BATCH) {
    store.outcomes.upsert(list.slice(i, i + BATCH));
    await turn();
  }
}

/** Import an outcomes CSV text (see README, DXA outcomes). `name`: the file name recorded as the source. */
export async function importOutcomeCsv(store: Store, csv: string, name: string, defaultIssuer: string): Promise<ImportResult> {
  const { rows, ignoredColumns, badLines } = readOutcomeCsv(csv);
  const rejected: ImportResult['rejected'] = badLines.map((b) => ({ line: b.line, error: b.error }));
  const good: Outcome[] = [];
  const base = path.basename(name);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const c = checkOutcome(r.values, defaultIssuer, 'csv', `${base}:${r.line}`);
    if (c.ok) good.push(c.outcome);
    else rejected.push({ line: r.line, error: c.error });
    if (i % 10000 === 9999) await turn();
  }
  rejected.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  await storeBatches(store, good);
  log.info('outcomes imported', { source: 'csv', file: base, stored: good.length, rejected: rejected.length });
  return { stored: good.length, rejected, ignoredColumns };
}

/** Import outcomes given as JSON objects (POST /api/outcomes). */
export async function importOutcomeObjects(store: Store, list: unknown[], defaultIssuer: string): Promise<ImportResult> {
  const rejected: ImportResult['rejected'] = [];
  const good: Outcome[] = [];
  list.forEach((o, index) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return void rejected.push({ index, error: 'not an object' });
    const c = checkOutcome(o as RawOutcome, defaultIssuer, 'api', 'api');
    if (c.ok) good.push(c.outcome);
    else rejected.push({ index, error: c.error });
  });
  await storeBatches(store, good);
  log.info('outcomes imported', { source: 'api', stored: good.length, rejected: rejected.length });
  return { stored: good.length, rejected };
}
