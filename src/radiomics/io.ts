/**
 * Loading images and masks for the radiomics CLI: NRRD (.nrrd/.nhdr attached), NIfTI (.nii/.nii.gz).
 * DICOM series folders need src/dicom's series → volume reader, which is not part of this module yet.
 */
import { statSync } from 'node:fs';
import { OsteoError } from '../common/errors.js';
import { readNifti } from '../volume/nifti.js';
import { readNrrdImage, readNrrdMask } from '../volume/nrrd.js';
import type { PixelType, RImage, RMask } from './image.js';

const NIFTI_PIXEL: Record<number, PixelType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};

function kind(path: string): 'nrrd' | 'nifti' | 'dir' {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new OsteoError('input-missing', `no such file or folder: ${path}`, 400);
  }
  if (st.isDirectory()) return 'dir';
  const p = path.toLowerCase();
  if (p.endsWith('.nrrd') || p.endsWith('.nhdr')) return 'nrrd';
  if (p.endsWith('.nii') || p.endsWith('.nii.gz')) return 'nifti';
  throw new OsteoError('input-format', `unsupported image format: ${path} (use .nrrd, .nii or .nii.gz)`, 400);
}

function dicomNotAvailable(path: string): never {
  throw new OsteoError('input-format', `DICOM series folders are not supported by this command yet: ${path} (convert to NRRD/NIfTI)`, 400);
}

/** Read an image file as RImage (NIfTI scl_slope/scl_inter applied; then float64). */
export function loadImage(path: string): RImage {
  const k = kind(path);
  if (k === 'nrrd') return readNrrdImage(path);
  if (k === 'dir') dicomNotAvailable(path);
  const n = readNifti(path);
  const scaled = n.sclSlope !== 0 && Number.isFinite(n.sclSlope) && !(n.sclSlope === 1 && (n.sclInter === 0 || !Number.isFinite(n.sclInter)));
  const data = new Float64Array(n.data.length);
  const s = scaled ? n.sclSlope : 1;
  const b = scaled && Number.isFinite(n.sclInter) ? n.sclInter : 0;
  for (let i = 0; i < data.length; i++) data[i] = n.data[i]! * s + b;
  return { dims: n.dims, spacing: n.spacing, origin: n.origin, direction: n.direction, data, pixelType: scaled ? 'float64' : NIFTI_PIXEL[n.datatype] ?? 'float64' };
}

/** Read a label map file as RMask. */
export function loadMask(path: string): RMask {
  const k = kind(path);
  if (k === 'nrrd') return readNrrdMask(path);
  if (k === 'dir') dicomNotAvailable(path);
  const n = readNifti(path);
  const data = n.data instanceof Int8Array ? Int16Array.from(n.data) : n.data instanceof Uint32Array || n.data instanceof Int32Array ? Float64Array.from(n.data) : n.data;
  return { dims: n.dims, spacing: n.spacing, origin: n.origin, direction: n.direction, data };
}
