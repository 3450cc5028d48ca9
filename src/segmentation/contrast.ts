/**
 * The image contrast check. A series' weighting (T1 or T2) comes from its acquisition header (TR, TE, TI,
 * scanning sequence: ../pipeline/selection.ts decides it). The image only has to not CONTRADICT that claim, and a
 * series is refused only when the contradiction is clear:
 *  - a series that claims T1 but shows CSF at least as bright as subcutaneous fat (on any T1, spin echo or
 *    gradient echo, fat is bright and CSF dark; on T2 CSF is as bright as fat or brighter);
 *  - a series that claims T2 but shows CSF darker than 30 % of subcutaneous fat (the T1 picture);
 *  - where no subcutaneous fat is in view: CSF vs. the vertebral bodies, with wide bounds (T1: CSF more than 1.5x
 *    the marrow; T2: CSF below 0.4x the marrow). Fatty marrow is bright on T2 spin echo too and a stenotic canal
 *    holds little CSF, so CSF/body falls well below 1 on real T2 (seen 0.58-0.90 on other hospitals' T2): this
 *    ratio alone cannot tell T1 from T2 and is only used against clear contradictions;
 *  - a T1/T2 pair in which CSF relative to the marrow is not brighter on the T2 than on the T1 (a swapped pair,
 *    or the same series twice): `pairContradiction`.
 * Measured with `osteoscreen segment-eval` (CSF/fat column): real 1.5 T T2 TSE (shared/real-lumbar-dev, 14 cases)
 * 0.62-8.5, all accepted; on the held-out phantom studies every "T2 passed as T1" is refused and no good study is
 * (`osteoscreen segment-eval --phantom 12 --seed 777001`). Everything else is reported, not gated.
 */
export type Weighting = 'T1' | 'T2';

export interface ContrastRatios {
  /** median CSF / median L1-L4 body intensity */
  csfToBody?: number;
  /** median subcutaneous fat / median L1-L4 body intensity */
  fatToBody?: number;
}

export const CONTRAST = {
  /** minimal CSF / fat volume to judge the contrast (mm^3) */
  minCsfMm3: 1000,
  minFatMm3: 2000,
  /** T1: CSF / subcutaneous fat at or above this contradicts T1 */
  t1MaxCsfToFat: 1.0,
  /** T2: CSF / subcutaneous fat below this contradicts T2 */
  t2MinCsfToFat: 0.3,
  /** without fat in view: CSF / body above this contradicts T1, below the other contradicts T2 */
  t1MaxCsfToBody: 1.5,
  t2MinCsfToBody: 0.4,
};

const f2 = (x: number) => x.toFixed(2);

/** Why the image contradicts the claimed weighting, or undefined when it does not (or cannot be judged). */
export function contrastContradiction(claimed: Weighting, r: ContrastRatios): string | undefined {
  if (r.csfToBody === undefined) return `${claimed}: CSF not identified, the fat/water contrast cannot be verified`;
  if (r.fatToBody !== undefined && r.fatToBody > 0) {
    const csfToFat = r.csfToBody / r.fatToBody;
    if (claimed === 'T1' && csfToFat >= CONTRAST.t1MaxCsfToFat) {
      return `contrast is not T1-weighted: CSF is as bright as subcutaneous fat or brighter (CSF/fat ${f2(csfToFat)}, T1 needs < ${CONTRAST.t1MaxCsfToFat})`;
    }
    if (claimed === 'T2' && csfToFat < CONTRAST.t2MinCsfToFat) {
      return `contrast is not T2-weighted: CSF is much darker than subcutaneous fat (CSF/fat ${f2(csfToFat)}, T2 needs >= ${CONTRAST.t2MinCsfToFat})`;
    }
    return undefined;
  }
  if (claimed === 'T1' && r.csfToBody > CONTRAST.t1MaxCsfToBody) {
    return `contrast is not T1-weighted: CSF is much brighter than the vertebral bodies (CSF/body ${f2(r.csfToBody)}, T1 needs <= ${CONTRAST.t1MaxCsfToBody}; no subcutaneous fat in view)`;
  }
  if (claimed === 'T2' && r.csfToBody < CONTRAST.t2MinCsfToBody) {
    return `contrast is not T2-weighted: CSF is much darker than the vertebral bodies (CSF/body ${f2(r.csfToBody)}, T2 needs >= ${CONTRAST.t2MinCsfToBody}; no subcutaneous fat in view)`;
  }
  return undefined;
}

/** A T1/T2 pair must show CSF brighter (relative to the marrow) on the T2 than on the T1. */
export function pairContradiction(t1: ContrastRatios, t2: ContrastRatios): string | undefined {
  if (t1.csfToBody === undefined || t2.csfToBody === undefined) return undefined;
  if (!(t2.csfToBody > t1.csfToBody)) {
    return `the T1 and T2 series do not differ as T1 and T2 do: CSF/body ${f2(t1.csfToBody)} on the T1 is not below ${f2(t2.csfToBody)} on the T2 (swapped series, or the same contrast twice)`;
  }
  return undefined;
}
