/** 3-D connected components (6-connectivity) of a binary predicate over a label volume. */
export interface Component {
  /** 1-based id in the component image */
  id: number;
  voxels: number;
  /** mean voxel index (i, j, k) */
  centroidIndex: [number, number, number];
  /** inclusive bounding box in voxel indices */
  min: [number, number, number];
  max: [number, number, number];
}

export interface Components {
  /** component id per voxel (0 = not in the mask) */
  ids: Int32Array;
  list: Component[];
}

export function connectedComponents(data: Uint8Array, dims: readonly [number, number, number], inMask: (v: number) => boolean): Components {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const ids = new Int32Array(data.length);
  const list: Component[] = [];
  const stack = new Int32Array(data.length);
  let next = 0;
  for (let start = 0; start < data.length; start++) {
    if (ids[start] !== 0 || !inMask(data[start])) continue;
    const id = ++next;
    let sp = 0;
    stack[sp++] = start;
    ids[start] = id;
    let n = 0;
    let si = 0;
    let sj = 0;
    let sk = 0;
    const mn: [number, number, number] = [nx, ny, nz];
    const mx: [number, number, number] = [-1, -1, -1];
    while (sp > 0) {
      const v = stack[--sp];
      const k = Math.floor(v / nxy);
      const r = v - k * nxy;
      const j = Math.floor(r / nx);
      const i = r - j * nx;
      n++;
      si += i;
      sj += j;
      sk += k;
      if (i < mn[0]) mn[0] = i;
      if (j < mn[1]) mn[1] = j;
      if (k < mn[2]) mn[2] = k;
      if (i > mx[0]) mx[0] = i;
      if (j > mx[1]) mx[1] = j;
      if (k > mx[2]) mx[2] = k;
      // 6-neighbourhood, inlined (hot loop)
      let w: number;
      if (i > 0 && ids[(w = v - 1)] === 0 && inMask(data[w])) {
        ids[w] = id;
        stack[sp++] = w;
      }
      if (i < nx - 1 && ids[(w = v + 1)] === 0 && inMask(data[w])) {
        ids[w] = id;
        stack[sp++] = w;
      }
      if (j > 0 && ids[(w = v - nx)] === 0 && inMask(data[w])) {
        ids[w] = id;
        stack[sp++] = w;
      }
      if (j < ny - 1 && ids[(w = v + nx)] === 0 && inMask(data[w])) {
        ids[w] = id;
        stack[sp++] = w;
      }
      if (k > 0 && ids[(w = v - nxy)] === 0 && inMask(data[w])) {
        ids[w] = id;
        stack[sp++] = w;
      }
      if (k < nz - 1 && ids[(w = v + nxy)] === 0 && inMask(data[w])) {
        ids[w] = id;
        stack[sp++] = w;
      }
    }
    list.push({ id, voxels: n, centroidIndex: [si / n, sj / n, sk / n], min: mn, max: mx });
  }
  return { ids, list };
}

/**
 * Components that are separated by thin bridges: the mask is eroded in-plane (disc of `erodeMm`) and across
 * `erodeSlices` slices on each side (partial-volume bridges between bodies appear in the lateral slices), the
 * eroded cores are labelled (6-connectivity), then every mask voxel takes the label of the nearest core by a geodesic
 * breadth-first growth inside the mask. Bodies touching across a disc through a thin bridge become separate;
 * voxels not reached from any core (fragments thinner than the erosion) are dropped.
 */
export function splitComponents(
  data: Uint8Array,
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
  inMask: (v: number) => boolean,
  erodeMm: number,
  /** also erode across slices: a core voxel needs the mask on `erodeSlices` slices on each side */
  erodeSlices = 0,
): Components {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const mask = new Uint8Array(data.length);
  for (let v = 0; v < data.length; v++) if (inMask(data[v])) mask[v] = 1;
  const offs: number[][] = [];
  const ri = Math.floor(erodeMm / spacing[0] + 1e-9);
  const rj = Math.floor(erodeMm / spacing[1] + 1e-9);
  for (let dj = -rj; dj <= rj; dj++)
    for (let di = -ri; di <= ri; di++) if ((di * spacing[0]) ** 2 + (dj * spacing[1]) ** 2 <= erodeMm * erodeMm + 1e-9) offs.push([di, dj]);
  const core = new Uint8Array(data.length);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const v = k * nxy + j * nx + i;
        if (!mask[v]) continue;
        let keep = true;
        for (const [di, dj] of offs) {
          const a = i + di;
          const b = j + dj;
          if (a < 0 || b < 0 || a >= nx || b >= ny || !mask[k * nxy + b * nx + a]) {
            keep = false;
            break;
          }
        }
        for (let m = 1; keep && m <= erodeSlices; m++) {
          if (k - m < 0 || k + m >= nz || !mask[v - m * nxy] || !mask[v + m * nxy]) keep = false;
        }
        if (keep) core[v] = 1;
      }
  const cc = connectedComponents(core, dims, (x) => x === 1);
  const ids = cc.ids;
  // geodesic growth (multi-source BFS) from the cores into the mask
  let queue = new Int32Array(data.length);
  let qn = 0;
  for (let v = 0; v < ids.length; v++) if (ids[v]) queue[qn++] = v;
  let next = new Int32Array(data.length);
  while (qn > 0) {
    let nn = 0;
    for (let q = 0; q < qn; q++) {
      const v = queue[q];
      const id = ids[v];
      const k = Math.floor(v / nxy);
      const r = v - k * nxy;
      const j = Math.floor(r / nx);
      const i = r - j * nx;
      let w: number;
      if (i > 0 && mask[(w = v - 1)] && !ids[w]) {
        ids[w] = id;
        next[nn++] = w;
      }
      if (i < nx - 1 && mask[(w = v + 1)] && !ids[w]) {
        ids[w] = id;
        next[nn++] = w;
      }
      if (j > 0 && mask[(w = v - nx)] && !ids[w]) {
        ids[w] = id;
        next[nn++] = w;
      }
      if (j < ny - 1 && mask[(w = v + nx)] && !ids[w]) {
        ids[w] = id;
        next[nn++] = w;
      }
      if (k > 0 && mask[(w = v - nxy)] && !ids[w]) {
        ids[w] = id;
        next[nn++] = w;
      }
      if (k < nz - 1 && mask[(w = v + nxy)] && !ids[w]) {
        ids[w] = id;
        next[nn++] = w;
      }
    }
    [queue, next] = [next, queue];
    qn = nn;
  }
  // statistics of the grown components
  const n = cc.list.length;
  const cnt = new Float64Array(n + 1);
  const s = new Float64Array(3 * (n + 1));
  const mn = new Int32Array(3 * (n + 1)).fill(2 ** 30);
  const mx = new Int32Array(3 * (n + 1)).fill(-1);
  for (let v = 0; v < ids.length; v++) {
    const id = ids[v];
    if (!id) continue;
    const k = Math.floor(v / nxy);
    const r = v - k * nxy;
    const j = Math.floor(r / nx);
    const i = r - j * nx;
    cnt[id]++;
    const c = [i, j, k];
    for (let a = 0; a < 3; a++) {
      s[3 * id + a] += c[a];
      if (c[a] < mn[3 * id + a]) mn[3 * id + a] = c[a];
      if (c[a] > mx[3 * id + a]) mx[3 * id + a] = c[a];
    }
  }
  const list: Component[] = [];
  for (let id = 1; id <= n; id++) {
    if (!cnt[id]) continue;
    list.push({
      id,
      voxels: cnt[id],
      centroidIndex: [s[3 * id] / cnt[id], s[3 * id + 1] / cnt[id], s[3 * id + 2] / cnt[id]],
      min: [mn[3 * id], mn[3 * id + 1], mn[3 * id + 2]],
      max: [mx[3 * id], mx[3 * id + 1], mx[3 * id + 2]],
    });
  }
  return { ids, list };
}
