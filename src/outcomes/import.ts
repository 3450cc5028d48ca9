/**
 * Storing checked outcomes in batches: each batch is one short SQLite transaction and the event loop gets a turn
 * between batches, so a large import never stalls the DICOM listener or the admin API of the same process (and a
 * separate `osteoscreen outcomes import` process holds the write lock only briefly). A bad row is reported with its
 * line (or index) and never stops the good ones.
 */
import path from 'node:path';
import type { Store, Outcome } from '../store/index.js';
import { logger } from '../common/log.js';
import { checkOutcome, outcomeCsvHeader, outcomeCsvLine, type RawOutcome } from './record.js';

const log = logger('outcomes');
const BATCH = 500;

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

/**
 * Import an outcomes CSV text (see README, DXA outcomes). `name`: the file name recorded as the source. Lines are
 * read, checked and stored in batches, with a turn of the event loop after each.
 */
export async function importOutcomeCsv(store: Store, csv: string, name: string, defaultIssuer: string): Promise<ImportResult> {
  // Lines are cut from the text as they are needed (no array of every line: a 100 000-row file stays cheap to hold).
  let pos = 0;
  const nextLine = (): string | null => {
    if (pos >= csv.length) return null;
    let end = csv.indexOf('\n', pos);
    if (end < 0) end = csv.length;
    const line = csv.slice(pos, end > pos && csv.charCodeAt(end - 1) === 13 ? end - 1 : end);
    pos = end + 1;
    return line;
  };
  const { header, ignoredColumns } = outcomeCsvHeader(nextLine() ?? '');
  const rejected: ImportResult['rejected'] = [];
  const base = path.basename(name);
  let stored = 0;
  let lineNo = 1;
  for (let more = true; more; ) {
    const good: Outcome[] = [];
    for (let k = 0; k < BATCH; k++) {
      const line = nextLine();
      if (line === null) {
        more = false;
        break;
      }
      lineNo++;
      const r = outcomeCsvLine(header, line);
      if (!r) continue;
      if ('error' in r) {
        rejected.push({ line: lineNo, error: r.error });
        continue;
      }
      const c = checkOutcome(r.values, defaultIssuer, 'csv', `${base}:${lineNo}`);
      if (c.ok) good.push(c.outcome);
      else rejected.push({ line: lineNo, error: c.error });
    }
    if (good.length) store.outcomes.upsert(good);
    stored += good.length;
    await turn();
  }
  log.info('outcomes imported', { source: 'csv', file: base, stored, rejected: rejected.length });
  return { stored, rejected, ignoredColumns };
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
