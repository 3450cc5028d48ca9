/**
 * QA limits. Size/shape ranges come from the phantom ground truth used for training (min/max of L1-L4 over the
 * training studies, widened, see models/vertebrae-seg.md) and are kept wide enough for adult anatomy.
 */
export const PLAUSIBLE = {
  /** L1-L4 body volume as covered by the sagittal slices (mm^3) */
  volumeMm3: [8000, 90000] as [number, number],
  /** height (cranio-caudal) / depth (antero-posterior) on the mid-sagittal slice */
  heightToDepth: [0.45, 1.4] as [number, number],
};

/**
 * Contrast limits (median intensity ratios against the L1-L4 bodies). T1: CSF dark, fat bright. T2 (fast spin
 * echo): CSF bright, fat bright. Fat-suppressed (STIR) or swapped sequences fail one of the two.
 */
export const CONTRAST = {
  /** minimal CSF / fat volume to judge the contrast (mm^3) */
  minCsfMm3: 1000,
  minFatMm3: 2000,
  T1: { csfToBody: [0, 0.85] as [number, number], fatToBody: [0.8, Infinity] as [number, number] },
  T2: { csfToBody: [1.15, Infinity] as [number, number], fatToBody: [0.7, Infinity] as [number, number] },
};
