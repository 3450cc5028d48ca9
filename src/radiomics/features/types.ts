import type { Discretized } from '../binning.js';
import type { CroppedRoi } from '../roi.js';
import type { FeatureClassName, Setting } from '../settings.js';

/** What a feature class gets: the ROI cropped to its bounding box, settings, and the shared discretisation. */
export interface FeatureInput {
  roi: CroppedRoi;
  setting: Setting;
  /** Gray-level discretisation of the ROI (computed once per image, shared by the texture classes). */
  discretized(): Discretized;
}

export interface FeatureDef<C> {
  /** Formula and meaning (IBSI name where one exists). */
  doc: string;
  /** Value; NaN when undefined for this ROI (reported as null with `nanReason`). */
  compute(c: C): number;
  /** Why the value can be undefined. */
  nanReason?: string;
}

/** One feature class: `prepare` builds the matrices once; each feature reads them. */
export interface FeatureClassDef<C = unknown> {
  name: FeatureClassName;
  doc: string;
  prepare(input: FeatureInput): C;
  features: Record<string, FeatureDef<C>>;
  /** Why a feature of this class can be undefined (used when the feature has no own `nanReason`). */
  nanReason?: string;
}

export const EPS = 2.220446049250313e-16; // numpy.spacing(1)

/** Mean over angles ignoring NaN (numpy.nanmean); NaN if all NaN. */
export function nanMean(v: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x)) {
      s += x;
      n++;
    }
  }
  return n ? s / n : NaN;
}

export function log2(x: number): number {
  return Math.log2(x);
}
