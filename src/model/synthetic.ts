import { randn, rng } from './stats/misc.js';
import { featureNames } from '../radiomics/features/index.js';
import type { FeatureTable } from './table.js';
import type { LabelRow } from './labels.js';

/**
 * Synthetic labelled feature table for tests and demonstrations (pure numbers, no images): by default
 * n = 160 with 86 abnormal / 74 normal like the reference cohort, 24 men / 136 women, ages 33–91.
 *
 * Features are `T1_`/`T2_` columns: the nine terms of the paper model with a true effect in the
 * paper's direction, a shared latent "bone quality" factor, and `noise` pure-noise features per
 * sequence. `reader2` is the same table re-measured by a second reader: most features with small
 * measurement noise (ICC ≫ 0.75), the `*_unstable*` ones with large noise (ICC < 0.75).
 */
export interface SyntheticOptions {
  seed?: number;
  n?: number;
  nAbnormal?: number;
  /** Pure-noise features per sequence. */
  noise?: number;
  /** Effect size (in SDs) of the informative features. */
  effect?: number;
  idPrefix?: string;
}

export const SYNTHETIC_SIGNAL: { sequence: 'T1' | 'T2'; feature: string; direction: 1 | -1; base: number; scale: number }[] = [
  { sequence: 'T1', feature: 'original_shape_SurfaceVolumeRatio', direction: 1, base: 0.29, scale: 0.04 },
  { sequence: 'T1', feature: 'boxsigmaimage_glcm_Correlation', direction: 1, base: 0.3, scale: 0.15 },
  { sequence: 'T2', feature: 'original_shape_SurfaceVolumeRatio', direction: 1, base: 0.29, scale: 0.04 },
  { sequence: 'T2', feature: 'original_glszm_SmallAreaEmphasis', direction: 1, base: 0.6, scale: 0.08 },
  { sequence: 'T1', feature: 'original_shape_MeshVolume', direction: -1, base: 40000, scale: 8000 },
  { sequence: 'T1', feature: 'original_shape_VoxelVolume', direction: -1, base: 44000, scale: 9000 },
  { sequence: 'T2', feature: 'wavelet-LLH_glszm_LargeAreaHighGrayLevelEmphasis', direction: -1, base: 1e6, scale: 3e5 },
  { sequence: 'T1', feature: 'additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis', direction: -1, base: 0.1, scale: 0.03 },
  { sequence: 'T2', feature: 'log-sigma-4-0-mm-3D_firstorder_Median', direction: -1, base: -5, scale: 15 },
];

/** Derived images and classes whose features carry the synthetic noise columns (real names, so models load). */
const NOISE_IMAGES = ['wavelet-HHH', 'wavelet-HHL', 'wavelet-HLH', 'wavelet-LHH', 'wavelet-HLL', 'wavelet-LHL', 'wavelet-LLH', 'wavelet-LLL'];
const NOISE_CLASSES = ['firstorder', 'glcm', 'glrlm', 'glszm', 'gldm', 'ngtdm'] as const;
let noiseNames: string[] | undefined;
/** The k-th pure-noise feature: a real PyRadiomics feature name (of a wavelet image) that carries only noise here. */
export function syntheticNoiseFeature(k: number): string {
  noiseNames ??= NOISE_CLASSES.flatMap((c) => NOISE_IMAGES.flatMap((img) => featureNames(c).map((f) => `${img}_${c}_${f}`))).filter(
    (f) => !SYNTHETIC_UNSTABLE.includes(f) && !SYNTHETIC_SIGNAL.some((s) => s.feature === f),
  );
  const name = noiseNames[k];
  if (!name) throw new RangeError(`syntheticCohort: at most ${noiseNames.length} noise features`);
  return name;
}
/** Features whose second-reader values disagree (low ICC): the ICC filter must drop them. */
export const SYNTHETIC_UNSTABLE = ['wavelet-HHH_glcm_Idmn', 'wavelet-HHH_glcm_Idn'];

export function syntheticCohort(opts: SyntheticOptions = {}): { features: FeatureTable; labels: LabelRow[]; reader2: FeatureTable } {
  const seed = opts.seed ?? 20240601;
  const n = opts.n ?? 160;
  const nAb = opts.nAbnormal ?? 86;
  const nNoise = opts.noise ?? 40;
  const effect = opts.effect ?? 0.55;
  const prefix = opts.idPrefix ?? 'SYN';
  const rand = rng(seed);
  const labelsArr: (0 | 1)[] = Array.from({ length: n }, (_, i) => (i < nAb ? 1 : 0));
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(rand() * (i + 1));
    [labelsArr[i], labelsArr[k]] = [labelsArr[k]!, labelsArr[i]!];
  }
  const columns: string[] = [];
  for (const s of SYNTHETIC_SIGNAL) columns.push(`${s.sequence}_${s.feature}`);
  for (const seq of ['T1', 'T2'] as const) {
    for (let k = 0; k < nNoise; k++) columns.push(`${seq}_${syntheticNoiseFeature(k)}`);
    columns.push(...SYNTHETIC_UNSTABLE.map((f) => `${seq}_${f}`));
  }
  const unstableColumns = new Set(['T1', 'T2'].flatMap((seq) => SYNTHETIC_UNSTABLE.map((f) => `${seq}_${f}`)));
  const ids: string[] = [];
  const values: number[][] = [];
  const values2: number[][] = [];
  const labels: LabelRow[] = [];
  const nMen = Math.round((24 / 160) * n);
  for (let i = 0; i < n; i++) {
    const y = labelsArr[i]!;
    const id = `${prefix}${String(i + 1).padStart(4, '0')}`;
    ids.push(id);
    const latent = randn(rand);
    const row: number[] = [];
    for (const s of SYNTHETIC_SIGNAL) {
      const z = s.direction * effect * (y - 0.5) * 2 * 0.5 + 0.4 * latent * s.direction + 0.9 * randn(rand);
      row.push(s.base + s.scale * z);
    }
    const width = columns.length - SYNTHETIC_SIGNAL.length;
    for (let k = 0; k < width; k++) row.push(10 + 3 * randn(rand));
    values.push(row);
    values2.push(
      row.map((v, j) => {
        const unstable = unstableColumns.has(columns[j]!);
        const spread = j < SYNTHETIC_SIGNAL.length ? SYNTHETIC_SIGNAL[j]!.scale : 3;
        return v + spread * (unstable ? 1.5 : 0.15) * randn(rand);
      }),
    );
    // demographics consistent with the label rule
    const sex: 'F' | 'M' = i % Math.max(1, Math.round(n / nMen)) === 0 && labels.filter((l) => l.sex === 'M').length < nMen ? 'M' : 'F';
    const age = sex === 'M' && i % 3 === 0 ? 33 + Math.floor(rand() * 18) : 51 + Math.floor(rand() * 41);
    const useT = sex === 'F' || age > 50;
    let t: number;
    let zs: number;
    if (useT) {
      t = y ? -1 - Math.abs(1.2 * randn(rand)) : -0.9 + Math.abs(0.9 * randn(rand));
      zs = t + 1 + 0.3 * randn(rand);
    } else {
      zs = y ? -2.1 - Math.abs(0.6 * randn(rand)) : -1.5 + Math.abs(0.9 * randn(rand));
      t = zs - 0.2;
    }
    const r2 = (v: number) => Math.round(v * 10) / 10;
    labels.push({ id, sex, age, tScore: r2(t), zScore: r2(zs), label: y, rule: useT ? 't-score' : 'z-score', extra: {} });
  }
  return {
    features: { ids, columns, values },
    labels,
    reader2: { ids: [...ids], columns: [...columns], values: values2 },
  };
}

/** Labels as a CSV (id, sex, age, t_score, z_score) so that the label is derived by the study rule. */
export function labelsCsv(rows: LabelRow[], withLabel = false): string {
  const head = ['id', 'sex', 'age', 't_score', 'z_score', ...(withLabel ? ['label'] : [])];
  const lines = rows.map((r) => [r.id, r.sex ?? '', r.age ?? '', r.tScore ?? '', r.zScore ?? '', ...(withLabel ? [r.label ?? ''] : [])].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}
