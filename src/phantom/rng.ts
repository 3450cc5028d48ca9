/** Deterministic pseudo-random numbers and UIDs for the phantom generator (no Math.random anywhere). */

/** 32-bit string/number hash (FNV-1a then avalanche). */
export function hash32(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p) + '\u0001';
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Small seeded generator (sfc32) with helpers. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;
  constructor(...seed: (string | number)[]) {
    this.a = hash32('a', ...seed);
    this.b = hash32('b', ...seed);
    this.c = hash32('c', ...seed);
    this.d = hash32('d', ...seed) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }
  /** Uniform [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  /** Standard normal (Marsaglia polar). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }
  gauss(mean: number, sd: number): number {
    return mean + sd * this.normal();
  }
  /** Child generator for an independent stream. */
  fork(label: string | number): Rng {
    return new Rng(this.a, this.b, this.c, this.d, label);
  }
}

/**
 * Deterministic DICOM UID under the 2.25 root (ISO/IEC 9834-8 UUID-derived form): a 128-bit integer
 * from hashes of the parts, rendered in decimal. At most 2.25. + 39 digits = 44 characters.
 */
export function uidFrom(...parts: (string | number)[]): string {
  let n = 0n;
  for (let k = 0; k < 4; k++) n = (n << 32n) | BigInt(hash32('uid', k, ...parts));
  if (n === 0n) n = 1n;
  return `2.25.${n.toString()}`;
}

/** Smooth 3-D value noise (trilinear interpolation of hashed lattice values in [-1, 1]). */
export class ValueNoise {
  private readonly table: Float32Array;
  private static readonly N = 32;
  constructor(seed: number) {
    const r = new Rng('noise', seed);
    const n = ValueNoise.N;
    this.table = new Float32Array(n * n * n);
    for (let i = 0; i < this.table.length; i++) this.table[i] = r.next() * 2 - 1;
  }
  /** Noise at (x, y, z) in lattice units, period 32 in each axis. */
  at(x: number, y: number, z: number): number {
    const n = ValueNoise.N;
    const m = n - 1;
    const xf = Math.floor(x);
    const yf = Math.floor(y);
    const zf = Math.floor(z);
    let fx = x - xf;
    let fy = y - yf;
    let fz = z - zf;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    fz = fz * fz * (3 - 2 * fz);
    const x0 = xf & m;
    const y0 = yf & m;
    const z0 = zf & m;
    const x1 = (x0 + 1) & m;
    const y1 = (y0 + 1) & m;
    const z1 = (z0 + 1) & m;
    const t = this.table;
    const a00 = t[x0 + n * (y0 + n * z0)]! * (1 - fx) + t[x1 + n * (y0 + n * z0)]! * fx;
    const a10 = t[x0 + n * (y1 + n * z0)]! * (1 - fx) + t[x1 + n * (y1 + n * z0)]! * fx;
    const a01 = t[x0 + n * (y0 + n * z1)]! * (1 - fx) + t[x1 + n * (y0 + n * z1)]! * fx;
    const a11 = t[x0 + n * (y1 + n * z1)]! * (1 - fx) + t[x1 + n * (y1 + n * z1)]! * fx;
    const b0 = a00 * (1 - fy) + a10 * fy;
    const b1 = a01 * (1 - fy) + a11 * fy;
    return b0 * (1 - fz) + b1 * fz;
  }
}
