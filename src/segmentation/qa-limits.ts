/**
 * QA limits. Size/shape ranges come from the ground truth of the training studies (L1-L4 bodies not cut by the
 * field of view, 756 bodies): volume 18.3-55.2 cm^3, height/depth 0.66-0.92 on the mid-sagittal slice. They are
 * widened (volume x0.5 / x1.5, ratio -0.2 / +0.25) so that adult anatomy outside the phantom's range passes,
 * while a merged pair of bodies, a half body or a fragment does not. See models/vertebrae-seg.md.
 */
export const PLAUSIBLE = {
  /** L1-L4 body volume as covered by the sagittal slices (mm^3) */
  volumeMm3: [9000, 85000] as [number, number],
  /** height (cranio-caudal) / depth (antero-posterior) on the mid-sagittal slice */
  heightToDepth: [0.45, 1.2] as [number, number],
};

/**
 * Contrast limits (median CSF / L1-L4 body intensity ratio). T1: CSF dark; T2 (fast spin echo): CSF bright, so a
 * swapped T1/T2 fails. `fatToBody` is informational (reported, not gated): with coil bias fields and fatty marrow
 * it does not separate fat-suppressed series reliably; STIR is excluded by the series selection rules (TI).
 */
export const CONTRAST = {
  /** minimal CSF / fat volume to judge the contrast (mm^3) */
  minCsfMm3: 1000,
  minFatMm3: 2000,
  T1: { csfToBody: [0, 0.85] as [number, number], fatToBody: [0.8, Infinity] as [number, number] },
  T2: { csfToBody: [1.15, Infinity] as [number, number], fatToBody: [0.7, Infinity] as [number, number] },
};
