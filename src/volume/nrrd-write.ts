/** NRRD writer (attached header, LPS space, gzip or raw) for 3-D scalar images; the reader is nrrd.ts. */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { OsteoError } from '../common/errors.js';
import type { PixelType } from './image.js';
import type { Geometry } from './types.js';
import { allocTyped, BYTES_PER_PIXEL, NRRD_TYPE_NAME } from './nrrd-types.js';

export interface NrrdWriteOptions {
  /** 'gzip' (default) or 'raw'. */
  encoding?: 'gzip' | 'raw';
  /** Byte order of the written data; default 'little'. */
  endian?: 'little' | 'big';
}

function fmt(x: number): string {
  // Shortest representation that round-trips exactly.
  return Object.is(x, -0) ? '0' : String(x);
}

/** Serialise an image as an NRRD file (attached header). */
export function serializeNrrd(
  geometry: Geometry,
  data: ArrayLike<number>,
  pixelType: PixelType,
  opts: NrrdWriteOptions = {},
): Buffer {
  const { dims, spacing, origin, direction } = geometry;
  const n = dims[0] * dims[1] * dims[2];
  if (data.length !== n) throw new OsteoError('nrrd-invalid', `NRRD: ${data.length} values for dims ${dims.join('x')}`);
  const endian = opts.endian ?? 'little';
  const encoding = opts.encoding ?? 'gzip';
  const dirs = [0, 1, 2]
    .map((c) => `(${[0, 1, 2].map((r) => fmt(direction[r * 3 + c]! * spacing[c]!)).join(',')})`)
    .join(' ');
  const header =
    'NRRD0004\n' +
    '# Complete NRRD file format specification at:\n' +
    '# http://teem.sourceforge.net/nrrd/format.html\n' +
    `type: ${NRRD_TYPE_NAME[pixelType]}\n` +
    'dimension: 3\n' +
    'space: left-posterior-superior\n' +
    `sizes: ${dims[0]} ${dims[1]} ${dims[2]}\n` +
    `space directions: ${dirs}\n` +
    'kinds: domain domain domain\n' +
    `endian: ${endian}\n` +
    `encoding: ${encoding}\n` +
    `space origin: (${origin.map(fmt).join(',')})\n\n`;
  const bpp = BYTES_PER_PIXEL[pixelType];
  const typed = allocTyped(pixelType, n);
  for (let i = 0; i < n; i++) typed[i] = data[i]!;
  let bytes = Buffer.from(typed.buffer, typed.byteOffset, n * bpp);
  const osLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (bpp > 1 && (endian === 'little') !== osLittle) {
    bytes = Buffer.from(bytes); // copy, then swap in place
    if (bpp === 2) bytes.swap16();
    else if (bpp === 4) bytes.swap32();
    else bytes.swap64();
  }
  const body = encoding === 'gzip' ? gzipSync(bytes) : bytes;
  return Buffer.concat([Buffer.from(header, 'latin1'), body]);
}

/** Write an image as an NRRD file (attached header, LPS space, gzip unless told otherwise). */
export function writeNrrd(
  path: string,
  geometry: Geometry,
  data: ArrayLike<number>,
  pixelType: PixelType,
  opts: NrrdWriteOptions = {},
): void {
  writeFileSync(path, serializeNrrd(geometry, data, pixelType, opts));
}
