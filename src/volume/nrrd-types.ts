/** NRRD pixel types: the typed arrays, the `type:` spellings, bytes per pixel. Shared by the reader and the writer. */
import type { PixelType } from './image.js';
import type { Geometry } from './types.js';

export type NrrdTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface NrrdVolume {
  geometry: Geometry;
  data: NrrdTypedArray;
  pixelType: PixelType;
}

/** Every NRRD spelling of each pixel type (the `type:` field, lower case). */
export const TYPE_ALIASES: Record<string, PixelType> = {};
function alias(pt: PixelType, names: string[]): void {
  for (const n of names) TYPE_ALIASES[n] = pt;
}
alias('int8', ['signed char', 'int8', 'int8_t']);
alias('uint8', ['uchar', 'unsigned char', 'uint8', 'uint8_t']);
alias('int16', ['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t']);
alias('uint16', ['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t']);
alias('int32', ['int', 'signed int', 'int32', 'int32_t']);
alias('uint32', ['uint', 'unsigned int', 'uint32', 'uint32_t']);
alias('float32', ['float']);
alias('float64', ['double']);

export const NRRD_TYPE_NAME: Record<PixelType, string> = {
  int8: 'signed char',
  uint8: 'uchar',
  int16: 'short',
  uint16: 'ushort',
  int32: 'int',
  uint32: 'uint',
  float32: 'float',
  float64: 'double',
};

export const BYTES_PER_PIXEL: Record<PixelType, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

/** Allocate a typed array of the given pixel type. */
export function allocTyped(pt: PixelType, n: number): NrrdTypedArray {
  switch (pt) {
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
      return new Uint8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
}
