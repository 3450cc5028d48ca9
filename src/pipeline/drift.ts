import type { Store } from '../store/index.js';

/**
 * Drift monitor: per scanner (the one scanner key, src/common/scanner.ts) a running mean and variance (Welford,
 * kept by the store: src/store/drift.ts, recorded for each scored study) of each model term's raw feature value,
 * compared with the model's normalisation mean/SD.
 *
 *   z = (running mean − model mean) / model SD
 *
 * A scanner warns when it has at least `minStudies` studies and some term has |z| > `maxZ`: its feature
 * distribution has moved away from what the model's Z-scoring assumes (new scanner, protocol change, upgrade).
 */

export interface DriftTerm {
  sequence: string;
  feature: string;
  n: number;
  mean: number;
  /** Sample SD (n−1); null below 2 studies. */
  sd: number | null;
  modelMean: number | null;
  modelSd: number | null;
  /** (mean − model mean) / model SD; null when the term is not in the model. */
  z: number | null;
  /** Enough studies and |z| above maxZ. */
  warn: boolean;
}

export interface DriftScanner {
  scanner: string;
  /** Studies seen (the largest n over its terms). */
  studies: number;
  /** n ≥ minStudies: its z values are judged. */
  judged: boolean;
  warn: boolean;
  maxAbsZ: number | null;
  terms: DriftTerm[];
  updatedAt: string;
  /** The model this scanner is compared with (its approved calibration, else the default). */
  model: { name: string; version: string } | null;
}

export interface DriftReport {
  maxZ: number;
  minStudies: number;
  model: { name: string; version: string; normalisation: string } | null;
  scanners: DriftScanner[];
}

export interface DriftModel {
  name: string;
  version: string;
  normalisation?: { source: string };
  terms: Array<{ sequence: string; feature: string; mean: number; sd: number }>;
}

/** Compare every scanner's running term statistics with the model's normalisation. */
export function driftReport(
  store: Pick<Store, 'drift'>,
  model: DriftModel | null,
  cfg: { maxZ: number; minStudies: number },
  /** A scanner's own model (its approved calibration), compared instead of the default; null/undefined = default. */
  modelFor?: (scanner: string) => DriftModel | null | undefined,
): DriftReport {
  const rows = store.drift.rows();
  const normOf = (m: DriftModel | null) => new Map((m?.terms ?? []).map((t) => [`${t.sequence}:${t.feature}`, t]));
  const norms = new Map<string, { model: DriftModel | null; norm: ReturnType<typeof normOf> }>();
  const by = new Map<string, DriftScanner>();
  for (const r of rows) {
    let s = by.get(r.scanner);
    if (!s) by.set(r.scanner, (s = { scanner: r.scanner, studies: 0, judged: false, warn: false, maxAbsZ: null, terms: [], updatedAt: '', model: null }));
    let nm = norms.get(r.scanner);
    if (!nm) {
      const own = modelFor?.(r.scanner) ?? model;
      norms.set(r.scanner, (nm = { model: own, norm: normOf(own) }));
      s.model = own ? { name: own.name, version: own.version } : null;
    }
    const m = nm.norm.get(`${r.sequence}:${r.feature}`);
    if (nm.model && !m) continue; // a term of an older model: not comparable with the loaded one
    const z = m ? (r.mean - m.mean) / m.sd : null;
    const judged = r.n >= cfg.minStudies;
    const term: DriftTerm = {
      sequence: r.sequence,
      feature: r.feature,
      n: r.n,
      mean: r.mean,
      sd: r.n >= 2 ? Math.sqrt(Math.max(0, r.m2) / (r.n - 1)) : null,
      modelMean: m?.mean ?? null,
      modelSd: m?.sd ?? null,
      z,
      warn: judged && z !== null && Math.abs(z) > cfg.maxZ,
    };
    s.terms.push(term);
    s.studies = Math.max(s.studies, r.n);
    const at = new Date(r.updatedAt).toISOString();
    if (at > s.updatedAt) s.updatedAt = at;
    if (z !== null) s.maxAbsZ = Math.max(s.maxAbsZ ?? 0, Math.abs(z));
  }
  const scanners = [...by.values()].filter((s) => s.terms.length);
  for (const s of scanners) {
    s.judged = s.studies >= cfg.minStudies;
    s.warn = s.terms.some((t) => t.warn);
  }
  return {
    maxZ: cfg.maxZ,
    minStudies: cfg.minStudies,
    model: model ? { name: model.name, version: model.version, normalisation: model.normalisation?.source ?? 'unknown' } : null,
    scanners,
  };
}
