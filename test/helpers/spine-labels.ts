/**
 * Synthetic class maps of a lumbar spine for the level-labelling tests: boxes of the network's classes on a sagittal
 * DICOM-like grid (i -> posterior, j -> inferior, k -> left), 1 mm in-plane, 7 slices of 5 mm.
 */
import type { Geometry, LabelMap, Mat3 } from '../../src/volume/types.js';
import { CLASS } from '../../src/segmentation/segmenter.js';

// Sagittal DICOM-like geometry: i -> posterior (+y), j -> inferior (-z), k -> left (+x).
export const SAG: Mat3 = [0, 0, 1, 1, 0, 0, 0, -1, 0];
export function geom(dims: [number, number, number], spacing: [number, number, number], direction: Mat3 = SAG): Geometry {
  return { dims, spacing, origin: [-10, -100, 150], direction };
}
export function labelMap(g: Geometry): LabelMap {
  return { ...g, data: new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]) };
}
export function box(m: LabelMap, value: number, i0: number, i1: number, j0: number, j1: number, k0: number, k1: number): void {
  const [nx, ny] = m.dims;
  for (let k = k0; k < k1; k++) for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) m.data[i + j * nx + k * nx * ny] = value;
}

/**
 * Sacrum + `n` bodies (25 mm tall, 30 mm deep, every 35 mm) on a 1 mm grid, 7 slices of 5 mm, with the thecal sac
 * (CSF) behind the bodies. `shift` moves everything posteriorly (room in front for a bowel loop); `sacrumAsBody`
 * draws S1 in the body class, `tilt` moves it backwards (the lumbosacral angle).
 */
export function spine(n: number, opts: { skip?: number; noSacrum?: boolean; mixed?: boolean; shift?: number; sacrumAsBody?: boolean; tilt?: number; width?: number } = {}): LabelMap {
  const s = opts.shift ?? 0;
  const m = labelMap(geom([opts.width ?? 80 + s, 320, 7], [1, 1, 5]));
  // rows increase inferiorly: sacrum at the bottom
  const t = opts.tilt ?? 22; // the sacrum lies behind the lumbar line (lumbosacral angle)
  if (!opts.noSacrum) box(m, opts.sacrumAsBody ? CLASS.body : CLASS.sacrum, s + t + 20, s + t + 55, 270, 305, 0, 7);
  for (let b = 0; b < n; b++) {
    if (b === opts.skip) continue;
    const j1 = 262 - b * 35;
    box(m, CLASS.body, s + 20, s + 50, j1 - 25, j1, 1, 6);
    if (opts.mixed && b === 0) box(m, CLASS.sacrum, s + 20, s + 50, j1 - 12, j1, 1, 6);
  }
  box(m, CLASS.csf, s + 55, s + 62, 20, 268, 2, 5); // the thecal sac ends at the top of S1
  return m;
}

