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
      const push = (w: number) => {
        if (ids[w] === 0 && inMask(data[w])) {
          ids[w] = id;
          stack[sp++] = w;
        }
      };
      if (i > 0) push(v - 1);
      if (i < nx - 1) push(v + 1);
      if (j > 0) push(v - nx);
      if (j < ny - 1) push(v + nx);
      if (k > 0) push(v - nxy);
      if (k < nz - 1) push(v + nxy);
    }
    list.push({ id, voxels: n, centroidIndex: [si / n, sj / n, sk / n], min: mn, max: mx });
  }
  return { ids, list };
}
