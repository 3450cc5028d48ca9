/** 3-vector helpers and slice order shared by the DICOM volume reader, the SEG input, the NRRD/NIfTI I/O, the segmentation and the phantom. */
import type { Vec3 } from './types.js';

type V = readonly number[];

export function cross(a: V, b: V): Vec3 {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

export function dot(a: V, b: V): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

/** `v` scaled to length 1; null for a zero (or non-finite) vector. */
export function unitOrNull(v: V): Vec3 | null {
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return n > 0 && Number.isFinite(n) ? [v[0]! / n, v[1]! / n, v[2]! / n] : null;
}

/** Unit vector from `b` to `a` ([0, 0, 0] when they coincide). */
export function direction(a: V, b: V): Vec3 {
  return unitOrNull([a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!]) ?? [0, 0, 0];
}

/** Slice normal of an ImageOrientationPatient (row, column direction cosines): row × column, normalised. */
export function sliceNormal(row: V, col: V): Vec3 | null {
  return unitOrNull(cross(row, col));
}

/**
 * Slices sorted by their position along the slice normal (ascending), each with that position `s` (mm): the
 * order of a volume's k axis. Never by InstanceNumber or file order.
 */
export function sortAlongNormal<T>(items: readonly T[], normal: V, position: (item: T) => V): { item: T; s: number }[] {
  return items.map((item) => ({ item, s: dot(normal, position(item)) })).sort((a, b) => a.s - b.s);
}
