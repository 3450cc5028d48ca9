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

