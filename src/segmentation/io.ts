/**
 * Series input for the segment CLI/bench: a NIfTI file (.nii / .nii.gz), a folder of DICOM files of one series,
 * or one DICOM file.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readNiftiVolume } from '../volume/nifti.js';
import type { Volume } from '../volume/types.js';

export async function loadSeries(p: string): Promise<Volume> {
  const st = statSync(p);
  if (st.isFile() && /\.nii(\.gz)?$/i.test(p)) return readNiftiVolume(p);
  const files = st.isDirectory()
    ? readdirSync(p)
        .filter((f) => !f.startsWith('.'))
        .map((f) => path.join(p, f))
        .filter((f) => statSync(f).isFile())
        .sort()
    : [p];
  // loaded lazily: the DICOM stack is only needed for DICOM input
  const { loadSeriesVolume } = await import('../dicom/volume.js');
  return loadSeriesVolume(files);
}
