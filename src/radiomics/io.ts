/**
 * Loading images and masks for the radiomics CLI: NRRD (.nrrd/.nhdr attached), NIfTI (.nii/.nii.gz), or a folder
 * holding one DICOM series (assembled by src/dicom/volume.ts: sorted along the slice normal, rescaled).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
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

function kind(file: string): 'nrrd' | 'nifti' | 'dir' {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new OsteoError('input-missing', `no such file or folder: ${file}`, 400);
  }
  if (st.isDirectory()) return 'dir';
  const p = file.toLowerCase();
  if (p.endsWith('.nrrd') || p.endsWith('.nhdr')) return 'nrrd';
  if (p.endsWith('.nii') || p.endsWith('.nii.gz')) return 'nifti';
  throw new OsteoError('input-format', `unsupported image format: ${file} (use .nrrd, .nii, .nii.gz or a DICOM series folder)`, 400);
}

/** A DICOM series folder (all regular files in it, non-recursive) as a Float32-valued volume. */
async function readDicomFolder(dir: string) {
  const files = readdirSync(dir)
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile() && !path.basename(f).startsWith('.'));
  if (!files.length) throw new OsteoError('input-missing', `no files in DICOM folder ${dir}`, 400);
  const { loadSeriesVolume } = await import('../dicom/volume.js');
  return loadSeriesVolume(files);
}

/** Read an image (NRRD, NIfTI with scl_slope/scl_inter applied, or a DICOM series folder). */
export async function loadImage(file: string): Promise<RImage> {
  const k = kind(file);
  if (k === 'nrrd') return readNrrdImage(file);
  if (k === 'dir') {
    const v = await readDicomFolder(file);
    return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: Float64Array.from(v.data), pixelType: 'float32' };
  }
  const n = readNifti(file);
  const scaled = n.sclSlope !== 0 && Number.isFinite(n.sclSlope) && !(n.sclSlope === 1 && (n.sclInter === 0 || !Number.isFinite(n.sclInter)));
  const data = new Float64Array(n.data.length);
  const s = scaled ? n.sclSlope : 1;
  const b = scaled && Number.isFinite(n.sclInter) ? n.sclInter : 0;
  for (let i = 0; i < data.length; i++) data[i] = n.data[i]! * s + b;
  return { dims: n.dims, spacing: n.spacing, origin: n.origin, direction: n.direction, data, pixelType: scaled ? 'float64' : NIFTI_PIXEL[n.datatype] ?? 'float64' };
}

/** Read a label map (NRRD, NIfTI, or a DICOM series folder whose pixel values are labels). */
export async function loadMask(file: string): Promise<RMask> {
  const k = kind(file);
  if (k === 'nrrd') return readNrrdMask(file);
  if (k === 'dir') {
    const v = await readDicomFolder(file);
    return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: Float64Array.from(v.data) };
  }
  const n = readNifti(file);
  const data = n.data instanceof Int8Array ? Int16Array.from(n.data) : n.data instanceof Uint32Array || n.data instanceof Int32Array ? Float64Array.from(n.data) : n.data;
  return { dims: n.dims, spacing: n.spacing, origin: n.origin, direction: n.direction, data };
}
