/**
 * QA limits for L1-L4. Size/shape ranges come from real bodies: the expert masks of the 14 real sagittal T2
 * series of shared/real-lumbar-dev (healthy adults, 1.5 T; 56 bodies L1-L4) give volumes 23.8-42.6 cm^3 and
 * height/depth 0.77-1.02 on the mid-sagittal slice (measured along the local spine axis, as the gate does; see
 * scripts/segmentation/real-qa-limits.mjs). The margins are wide on purpose, because the gate is judged on
 * other hospitals' patients: large adult bodies reach about 90 cm^3 (volume x 2.6 -> 110 cm^3), fractured or
 * small bodies are smaller (x 0.4 -> 9 cm^3, also the phantom's lower bound); height/depth widened by 0.35 on each
 * side (0.42 leaves room for wedge fractures; 1.4 for tall bodies and partial-volume height at the end plates).
 * What they must still refuse: a merged pair of bodies has height/depth of about 1.8-2.0 and doubles a level gap
 * (the spacing check), a half body or a fragment is under the volume bound.
 */
export const PLAUSIBLE = {
  /** L1-L4 body volume as covered by the sagittal slices (mm^3) */
  volumeMm3: [9000, 110000] as [number, number],
  /** height (cranio-caudal) / depth (antero-posterior) on the mid-sagittal slice */
  heightToDepth: [0.42, 1.4] as [number, number],
};

/**
 * Contrast limits (median CSF / L1-L4 body intensity ratio): CSF is dark on T1 and bright on T2, so a swapped
 * T1/T2 pair fails. Measured: real sagittal T2 TSE (the 14 cases of shared/real-lumbar-dev, `segment-eval`)
 * 1.08-1.54, phantom T2 1.5-2.0, phantom T1 0.25-0.39; on real T1 CSF is darker than marrow (more so in the fatty
 * marrow of older patients). T2 is only required to be above 0.95, because fatty marrow is bright on T2 fast spin
 * echo too and brings the ratio towards 1 in older patients (the screening population); T1 must stay below 0.8.
 * A ratio between the two is refused as ambiguous contrast. `fatToBody` is informational (reported, not gated):
 * with coil bias fields and fatty marrow it does not separate fat-suppressed series reliably; STIR is excluded by
 * the series selection rules (TI).
 */
export const CONTRAST = {
  /** minimal CSF / fat volume to judge the contrast (mm^3) */
  minCsfMm3: 1000,
  minFatMm3: 2000,
  T1: { csfToBody: [0, 0.8] as [number, number], fatToBody: [0.8, Infinity] as [number, number] },
  T2: { csfToBody: [0.95, Infinity] as [number, number], fatToBody: [0.7, Infinity] as [number, number] },
};
