/** Images on a geometry, as the volume readers/writers and the radiomics engine exchange them. */
import type { Geometry } from './types.js';

/** Pixel type of the image as stored (filters that "cast to the input type" need it, e.g. box-sigma -> int16). */
export type PixelType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

/** Image used by the radiomics engine: double precision values on a geometry. */
export interface RImage extends Geometry {
  data: Float64Array;
  pixelType: PixelType;
}

/** Mask on the same grid as its image; voxels equal to `label` form the ROI. */
export interface RMask extends Geometry {
  data: Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array | Uint16Array;
}
