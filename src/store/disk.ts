import { statfsSync } from 'node:fs';
import type { DB } from './db.js';

/** Free bytes on the file system of `dir` (statfs). */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Free bytes on the file system of `dir`, or null when statfs fails. */
export function diskFree(dir: string): number | null {
  try {
    return freeBytes(dir);
  } catch {
    return null;
  }
}

export type VacuumResult = {
  /** The wal_checkpoint(TRUNCATE) row: busy, log and checkpointed pages. */
  checkpoint: unknown;
  vacuumed: boolean;
  pages: number;
  freePages: number;
};

/** WAL checkpoint (truncate) and, when more than 20 % of the pages are free, VACUUM; then PRAGMA optimize. */
export function vacuumDb(db: DB): VacuumResult {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  let vacuumed = false;
  if (pages > 0 && freePages / pages > 0.2) {
    db.exec('VACUUM');
    vacuumed = true;
  }
  const checkpoint = (db.pragma('wal_checkpoint(TRUNCATE)') as unknown[])[0];
  db.pragma('optimize');
  return { checkpoint, vacuumed, pages, freePages };
}
