/**
 * Stage 4, features: radiomics on both sequences inside the pooled L1-L4 ROI, with the model's extraction
 * settings; only the model's terms (service) or every feature of the extraction (research `cohort`).
 */
import { extractFeatures, type RImage, type RMask } from '../../radiomics/index.js';
import { radiomicsSettingsOf, requiredFeatures, type RadscoreModel } from '../../model/index.js';
import type { LabelMap, Volume } from '../../volume/types.js';
import type { SpineResult } from '../../segmentation/index.js';
import type { Volumes } from './volumes.js';

export interface StudyFeatureValues {
  T1: Record<string, number | null>;
  T2: Record<string, number | null>;
}

function toRImage(v: Volume): RImage {
  return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: Float64Array.from(v.data), pixelType: 'float32' };
}

/** Union of the L1-L4 ROI labels (1..4) as one ROI with label 1, as the reference study pooled the bodies. */
export function pooledRoi(roi: LabelMap): RMask {
  const data = new Uint8Array(roi.data.length);
  for (let i = 0; i < data.length; i++) data[i] = roi.data[i]! >= 1 && roi.data[i]! <= 4 ? 1 : 0;
  return { dims: roi.dims, spacing: roi.spacing, origin: roi.origin, direction: roi.direction, data };
}

export function featuresStage(volumes: Volumes, spine: SpineResult, model: RadscoreModel, which: 'model' | 'all'): StudyFeatureValues {
  const settings = radiomicsSettingsOf(model);
  const need = requiredFeatures(model);
  return {
    T1: extractFeatures(toRImage(volumes.t1), pooledRoi(spine.t1Roi), settings, which === 'model' ? { only: need.T1 } : {}).features,
    T2: extractFeatures(toRImage(volumes.t2), pooledRoi(spine.t2Roi), settings, which === 'model' ? { only: need.T2 } : {}).features,
  };
}
