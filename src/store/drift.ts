import { statements, type Statements, type DB } from './db.js';
import type { TermValue } from './calibration.js';

/** Running statistics of one model term's raw value on one scanner (Welford: n, mean, sum of squared deviations). */
export interface DriftRow {
  scanner: string;
  sequence: string;
  feature: string;
  n: number;
  mean: number;
  m2: number;
  updatedAt: number;
}

/**
 * Per scanner and model term, the running mean and variance of the term's raw value over the scored studies
 * (the drift monitor, src/pipeline/drift.ts, compares them with the model's normalisation).
 */
export class DriftStore {
  private readonly sql: Statements;

  /** `now`: the wall clock of updated_at (injectable for tests). */
  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
  ) {
    this.sql = statements(db);
  }

  /** Welford update of one scanner's statistics with one study's term values (non-finite values are skipped); returns how many were recorded. */
  record(scanner: string, terms: TermValue[]): number {
    const get = this.sql('SELECT n, mean, m2 FROM drift WHERE scanner = ? AND sequence = ? AND feature = ?');
    const put = this.sql(
      `INSERT INTO drift (scanner, sequence, feature, n, mean, m2, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(scanner, sequence, feature) DO UPDATE SET n = excluded.n, mean = excluded.mean, m2 = excluded.m2, updated_at = excluded.updated_at`,
    );
    let recorded = 0;
    this.db.transaction(() => {
      const t = this.now();
      for (const term of terms) {
        if (typeof term.value !== 'number' || !Number.isFinite(term.value)) continue;
        const row = get.get(scanner, term.sequence, term.feature) as { n: number; mean: number; m2: number } | undefined;
        const n = (row?.n ?? 0) + 1;
        const delta = term.value - (row?.mean ?? 0);
        const mean = (row?.mean ?? 0) + delta / n;
        const m2 = (row?.m2 ?? 0) + delta * (term.value - mean);
        put.run(scanner, term.sequence, term.feature, n, mean, m2, t);
        recorded++;
      }
    })();
    return recorded;
  }

  /** Every scanner's term statistics, by scanner, sequence and feature. */
  rows(): DriftRow[] {
    return this.sql('SELECT scanner, sequence, feature, n, mean, m2, updated_at AS updatedAt FROM drift ORDER BY scanner, sequence, feature').all() as DriftRow[];
  }
}
