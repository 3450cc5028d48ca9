/**
 * Parametric lumbar-spine anatomy for the phantom generator (tests/training only, not a claim of realism).
 * Everything in LPS patient millimetres: +x patient left, +y posterior, +z superior.
 *
 * The spine is a curve parametrised by arc length s from the bottom of S2 upward; each vertebra is a
 * rounded box with concave endplates in the local frame (l lateral, a anterior, t along the curve),
 * discs fill the gaps, posterior elements, the canal (CSF + cord/cauda), muscles, fat and viscera
 * are placed relative to the curve. `Anatomy.classify` returns an internal tissue id per point.
 */
import { ValueNoise } from './rng.js';
import type { Vec3 } from '../volume/types.js';
import { T, type AnatomyParams } from './anatomy-params.js';

export * from './anatomy-params.js';

const VF = 10;
/** object stride: centre(3) l(3) a(3) t(3) radius cullCentre(3) */
export const OS = 16;

/** boxy superellipse term: f(1) = 1 */
function fb(x: number): number {
  const x2 = x * x;
  return 0.5 * x2 + 0.5 * x2 * x2;
}

/**
 * Fast point classifier built from AnatomyParams. Not re-entrant: `classify` writes `auxObj` (vertebra index of
 * a body/posterior voxel, disc index for a disc voxel) and `auxR` (normalised radius in a disc).
 */
export class Anatomy {
  readonly nObj: number;
  /** per object: cx cy cz, l(3) a(3) t(3), radius */
  readonly obj: Float64Array;
  readonly objKind: Uint8Array; // 0 vertebra, 1 disc
  readonly objIndex: Int16Array;
  readonly zMin: number;
  readonly zStep = 0.5;
  readonly nz: number;
  // per-z lookups (canal axis & body line)
  private readonly zcx: Float64Array;
  private readonly zcy: Float64Array;
  private readonly zcos: Float64Array;
  private readonly zcl: Float64Array;
  private readonly zcb: Float64Array;
  private readonly zby: Float64Array;
  /** AP position of the L3 body centre (reference for the body outline) */
  private readonly yRef: number;
  private readonly zbx: Float64Array;
  private readonly zhw: Float64Array;
  private readonly zhd: Float64Array;
  private readonly zpsoas: Float64Array;
  private readonly zaorta: Uint8Array;
  readonly noise: ValueNoise;
  readonly noise2: ValueNoise;
  /** per vertebra: hh hw hd conc cortex cl cb vc spinousLen lumbar */
  private readonly vp: Float64Array;
  /** per disc: halfWidth halfDepth halfSlab fused */
  private readonly dp: Float64Array;
  auxObj = -1;
  auxDisc = -1;
  auxR = 0;
  private readonly s2Top: number;
  private readonly sacralEndZ: number;

  constructor(readonly p: AnatomyParams) {
    const V = p.vertebrae;
    const D = p.discs;
    this.nObj = 2 * V.length + D.length;
    this.obj = new Float64Array(this.nObj * OS);
    this.objKind = new Uint8Array(this.nObj);
    this.objIndex = new Int16Array(this.nObj);
    this.dp = new Float64Array(D.length * 4);
    D.forEach((d, i) => this.dp.set([d.halfWidth, d.halfDepth, d.halfSlab, d.fused ? 1 : 0], i * 4));
    this.vp = new Float64Array(V.length * VF);
    V.forEach((v, i) => {
      const sp = v.name.startsWith('S') ? 12 : v.name.startsWith('T') ? 26 : 30;
      this.vp.set([v.height / 2, v.width / 2, v.depth / 2, v.concavity, v.cortex, v.canalHalfWidth, v.canalHalfDepth, v.canalOffset, sp, v.name.startsWith('L') ? 1 : 0], i * VF);
    });
    let o = 0;
    const put = (c: Vec3, l: Vec3, a: Vec3, t: Vec3, r: number, kind: number, idx: number, cull: Vec3 = c) => {
      const b = o * OS;
      this.obj.set([...c, ...l, ...a, ...t, r, ...cull], b);
      this.objKind[o] = kind;
      this.objIndex[o] = idx;
      o++;
    };
    V.forEach((v, i) => {
      put(v.center, v.l, v.a, v.t, Math.hypot(v.width / 2, v.depth / 2, v.height / 2 + 0.5) + 0.5, 0, i);
      // posterior elements: from the body's back wall to the spinous tip, transverse processes laterally
      const vFront = -v.depth / 2 + 1;
      const vBack = v.canalOffset - v.canalHalfDepth - 31;
      const vMid = (vFront + vBack) / 2;
      const cull: Vec3 = [0, 1, 2].map((k) => v.center[k]! + v.a[k]! * vMid) as Vec3;
      const rp = Math.hypot(v.canalHalfWidth + 30, (vFront - vBack) / 2, v.height) + 0.5;
      put(v.center, v.l, v.a, v.t, rp, 2, i, cull);
    });
    D.forEach((d, i) => put(d.center, d.l, d.a, d.t, Math.hypot(d.halfWidth, d.halfDepth, d.halfSlab), 1, i));

    // z lookups: canal centre and body centre line as functions of z
    const zLo = V[0]!.center[2] - 60;
    const zHi = V[V.length - 1]!.center[2] + 60;
    this.zMin = zLo;
    this.nz = Math.ceil((zHi - zLo) / this.zStep) + 1;
    const n = this.nz;
    this.zcx = new Float64Array(n);
    this.zcy = new Float64Array(n);
    this.zcos = new Float64Array(n);
    this.zcl = new Float64Array(n);
    this.zcb = new Float64Array(n);
    this.zby = new Float64Array(n);
    this.zbx = new Float64Array(n);
    this.zhw = new Float64Array(n);
    this.zhd = new Float64Array(n);
    this.zpsoas = new Float64Array(n);
    this.zaorta = new Uint8Array(n);
    // sample points along the vertebra centres (piecewise linear between centres, extrapolated at the ends)
    const sampleAt = (z: number) => {
      // find the two vertebrae whose centre z bracket z
      let i = 0;
      while (i < V.length - 2 && V[i + 1]!.center[2] < z) i++;
      const A = V[i]!;
      const B = V[i + 1]!;
      let w = (z - A.center[2]) / (B.center[2] - A.center[2]);
      const wc = Math.max(0, Math.min(1, w));
      const lerp = (x: number, y: number, f: number) => x + (y - x) * f;
      // body centre line (extrapolated linearly outside)
      w = Math.max(-1.5, Math.min(2.5, w));
      const bx = lerp(A.center[0], B.center[0], w);
      const by = lerp(A.center[1], B.center[1], w);
      // axis direction in the sagittal plane
      const ty = lerp(A.t[1], B.t[1], wc);
      const tz = lerp(A.t[2], B.t[2], wc);
      const cos = tz / Math.hypot(ty, tz);
      const off = lerp(A.canalOffset, B.canalOffset, wc);
      // canal centre: body centre moved posteriorly by |off| perpendicular to the axis, re-expressed at the same z
      const cy = by - off / cos;
      return { bx, by, cy, cx: bx, cos, cl: lerp(A.canalHalfWidth, B.canalHalfWidth, wc), cb: lerp(A.canalHalfDepth, B.canalHalfDepth, wc), hw: lerp(A.width, B.width, wc) / 2, hd: lerp(A.depth, B.depth, wc) / 2 };
    };
    const l1 = V.find((v) => v.name === 'L1')!;
    const l5 = V.find((v) => v.name === 'L5')!;
    const l4 = V.find((v) => v.name === 'L4')!;
    const psTop = l1.center[2] + l1.height / 2;
    const psBot = l5.center[2] - l5.height / 2;
    for (let k = 0; k < n; k++) {
      const z = zLo + k * this.zStep;
      const q = sampleAt(z);
      this.zcx[k] = q.cx;
      this.zcy[k] = q.cy;
      this.zcos[k] = q.cos;
      this.zcl[k] = q.cl;
      this.zcb[k] = q.cb;
      this.zbx[k] = q.bx;
      this.zby[k] = q.by;
      this.zhw[k] = q.hw;
      this.zhd[k] = q.hd;
      this.zpsoas[k] = z <= psTop && z >= psBot ? (psTop - z) / (psTop - psBot) : -1;
      this.zaorta[k] = z > l4.center[2] ? 1 : 0;
    }
    this.yRef = V.find((v) => v.name === 'L3')!.center[1];
    const s2 = V[0]!;
    this.s2Top = s2.center[2] + s2.height / 2;
    this.sacralEndZ = s2.center[2];
    this.noise = new ValueNoise(p.noiseSeed);
    this.noise2 = new ValueNoise(p.noiseSeed + 7);
  }

  /**
   * Tissue at point (x, y, z). `cand` lists object indices to test (from a line cull), `nc` how many.
   */
  classify(x: number, y: number, z: number, cand: Int32Array, nc: number): number {
    const O = this.obj;
    const P = this.p;
    let best = 0; // 0 none, 1 posterior, 2 disc, 3 body
    let bestTissue = 0;
    let bestObj = -1;
    for (let c = 0; c < nc; c++) {
      const o = cand[c]!;
      const b = o * OS;
      const dx = x - O[b]!;
      const dy = y - O[b + 1]!;
      const dz = z - O[b + 2]!;
      const u = dx * O[b + 3]! + dy * O[b + 4]! + dz * O[b + 5]!;
      const v = dx * O[b + 6]! + dy * O[b + 7]! + dz * O[b + 8]!;
      const w = dx * O[b + 9]! + dy * O[b + 10]! + dz * O[b + 11]!;
      const kind = this.objKind[o]!;
      if (kind !== 1) {
        const vi = this.objIndex[o]!;
        const q = vi * VF;
        const VP = this.vp;
        const hh = VP[q]!;
        const hw = VP[q + 1]!;
        const hd = VP[q + 2]!;
        const au = Math.abs(u);
        const av = v < 0 ? -v : v;
        if (kind === 0) {
          if (Math.abs(w) <= hh + 0.5 && au <= hw && av <= hd) {
          const su = au / hw;
          const sv = av / hd;
          const sv2x = sv * sv;
          const r = fb(su) + (v < 0 ? sv2x * sv2x : 0.5 * sv2x + 0.5 * sv2x * sv2x);
          if (r <= 1) {
            const edge = r > 0.7 ? (r - 0.7) * (r - 0.7) * 22 : 0;
            const half = hh - VP[q + 3]! * (1 - r) - edge;
            const aw = Math.abs(w);
            if (aw <= half) {
              const ct = VP[q + 4]!;
              const su2 = au / (hw - ct);
              const sv2 = av / (hd - ct);
              const s22 = sv2 * sv2;
              const r2 = fb(su2) + (v < 0 ? s22 * s22 : 0.5 * s22 + 0.5 * s22 * s22);
              const tissue = r2 > 1 || aw > half - ct ? T.cortical : T.marrow;
              this.auxObj = vi;
              this.auxDisc = -1;
              return tissue;
            }
          }
          }
        } else if (best < 1) {
          // posterior elements
          const vc = VP[q + 7]!;
          const cl = VP[q + 5]!;
          const cb = VP[q + 6]!;
          const H = 2 * hh;
          const eu = u / cl;
          const ev = (v - vc) / cb;
          if (eu * eu + ev * ev > 1 && v < -hd + 1 && au <= cl + 30 && Math.abs(w) < H) {
            let hit = false;
            // pedicles
            if (au >= cl * 0.75 && au <= cl + 6 && v >= vc && Math.abs(w - 0.12 * H) <= 0.24 * H) hit = true;
            // lamina ring
            else if (v <= vc) {
              const ou = u / (cl + 5);
              const ov = (v - vc) / (cb + 5);
              if (ou * ou + ov * ov <= 1 && Math.abs(w + 0.05 * H) <= 0.36 * H) hit = true;
              else if (au <= 3.5) {
                // spinous process, tilted caudally
                const dpt = vc - cb - v; // depth behind the canal
                if (dpt >= 2 && dpt <= VP[q + 8]! && Math.abs(w + 0.05 * H + 0.35 * dpt) <= 6.5) hit = true;
              }
            }
            // transverse processes (lumbar)
            if (!hit && VP[q + 9]! > 0 && au >= cl + 5 && v >= vc - 3 && v <= vc + 6 && Math.abs(w - 0.1 * H) <= 5) hit = true;
            if (hit) {
              best = 1;
              bestTissue = T.posterior;
              bestObj = o;
            }
          }
        }
      } else {
        if (best >= 2) continue;
        const di = this.objIndex[o]! * 4;
        const DP = this.dp;
        if (Math.abs(w) > DP[di + 2]!) continue;
        const su = Math.abs(u) / DP[di]!;
        const sv = Math.abs(v) / DP[di + 1]!;
        if (su > 1 || sv > 1) continue;
        const r = fb(su) + (v < 0 ? sv * sv * sv * sv : fb(sv));
        if (r <= 1) {
          best = 2;
          bestTissue = DP[di + 3]! > 0 ? T.fusedDisc : T.disc;
          bestObj = o;
          this.auxR = r;
        }
      }
    }
    if (best > 0) return this.setAux(bestObj, 1, bestTissue);
    this.auxObj = -1;
    this.auxDisc = -1;
    // z lookups
    let kz = Math.round((z - this.zMin) / this.zStep);
    if (kz < 0) kz = 0;
    else if (kz >= this.nz) kz = this.nz - 1;
    // canal
    const cdx = x - this.zcx[kz]!;
    const cdy = (y - this.zcy[kz]!) * this.zcos[kz]!;
    const cl = this.zcl[kz]!;
    const cb = this.zcb[kz]!;
    const e = (cdx * cdx) / (cl * cl) + (cdy * cdy) / (cb * cb);
    if (e <= 1) {
      if (z < this.sacralEndZ) return T.epiduralFat;
      if (e > 0.78 && cdy > 0.6 * cb) return T.epiduralFat; // dorsal epidural fat
      if (z > P.conusZ) {
        const taper = Math.min(1, (z - P.conusZ) / 20);
        const rl = 4.6 * taper;
        const ra = 3.6 * taper;
        const ey = cdy + 0.1 * cb;
        if (rl > 0.3 && (cdx * cdx) / (rl * rl) + (ey * ey) / (ra * ra) <= 1) return T.cord;
      } else if (z > this.s2Top) {
        // cauda equina: a band of roots lying dorsally
        const ey = cdy - 0.3 * cb;
        const rl = 0.55 * cl;
        const ra = 0.35 * cb;
        if ((cdx * cdx) / (rl * rl) + (ey * ey) / (ra * ra) <= 1 && this.noise2.at(x * 0.8, y * 0.8, z * 0.05) > -0.15) return T.cord;
      }
      return T.csf;
    }
    // body outline (ellipse in the axial plane, back follows the spine)
    const by = this.zby[kz]!;
    const bx = this.zbx[kz]!;
    const A = P.abdomenHalfWidthMm;
    // the back follows the spine curve closely, the abdominal wall much less (damped around L3)
    const dyc = by - this.yRef;
    const yBack = this.yRef + 0.85 * dyc + P.backDistanceMm;
    const yFront = this.yRef + 0.3 * dyc + P.backDistanceMm - 2 * P.abdomenHalfDepthMm;
    const B = (yBack - yFront) / 2;
    const y0 = (yBack + yFront) / 2;
    const ox = (x - bx * 0.5) / A;
    const oy = (y - y0) / B;
    const q = Math.sqrt(ox * ox + oy * oy);
    if (q > 1) return T.air;
    const fat = oy < 0 ? P.subcutFatMm * 1.3 : P.subcutFatMm;
    if ((1 - q) * B < fat) return T.subcutFat;
    // psoas
    const ps = this.zpsoas[kz]!;
    const hw = this.zhw[kz]!;
    const hd = this.zhd[kz]!;
    if (ps >= 0) {
      const pr = 12 + 9 * ps;
      const pa = 13 + 7 * ps;
      const pcx = hw + 4 + pr;
      const ux = Math.abs(x - bx) - pcx;
      const uy = y - (by + 0.15 * hd);
      if ((ux * ux) / (pr * pr) + (uy * uy) / (pa * pa) <= 1) return T.muscle;
    }
    // aorta (left anterior), above the bifurcation
    if (this.zaorta[kz]) {
      const ax = x - (bx + 14);
      const ay = y - (by - hd - 12);
      if (ax * ax + ay * ay <= 100) return T.vessel;
    }
    // paraspinal muscles
    const ycan = this.zcy[kz]!;
    if (y > ycan - 2 && Math.abs(x - bx) < 75) return T.muscle;
    // prevertebral/retroperitoneal and abdominal content
    if (y > ycan - 2) return T.viscera;
    const nf = this.noise2.at(x / 22, y / 22, z / 22);
    return nf > 0.3 ? T.abdominalFat : T.viscera;
  }

  private setAux(o: number, _kind: number, tissue: number): number {
    const isV = this.objKind[o] !== 1;
    this.auxObj = isV ? this.objIndex[o]! : -1;
    this.auxDisc = isV ? -1 : this.objIndex[o]!;
    return tissue;
  }

  /** Level label of the vertebra index `auxObj` */
  levelLabel(vIdx: number): number {
    return this.p.vertebrae[vIdx]!.label;
  }
}
