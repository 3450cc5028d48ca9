/**
 * Stage 2, volumes: the T1 and T2 series as 3-D volumes (src/dicom/volume.ts reads the pixel data). A series that
 * cannot make a correct voxel grid (missing or irregular slices, undecodable pixel data, ...) makes the study not
 * assessable, with that reason.
 */
import { NotAssessable } from '../../common/errors.js';
import { loadSeriesVolume } from '../../dicom/volume.js';
import type { Volume } from '../../volume/types.js';
import type { Selection } from './select.js';

export interface Volumes {
  t1: Volume;
  t2: Volume;
}

/** Why the volumes could not be built; the T1 volume when only the T2 failed (the summary image still shows it). */
export interface VolumesRefusal {
  reason: string;
  t1?: Volume;
}

export async function buildVolumes(selection: Pick<Selection, 't1' | 't2'>): Promise<Volumes | VolumesRefusal> {
  let t1: Volume | undefined;
  try {
    t1 = await loadSeriesVolume(selection.t1?.files ?? []);
    const t2 = await loadSeriesVolume(selection.t2?.files ?? []);
    return { t1, t2 };
  } catch (e) {
    if (!(e instanceof NotAssessable)) throw e;
    return { reason: e.message, t1 };
  }
}
