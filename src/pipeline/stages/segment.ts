/**
 * Stage 3, segment: L1-L4 on both volumes, the ROI and the QA gate (src/segmentation/). A study that fails the
 * gate keeps what was found (levels, agreement) with the reason.
 */
import { analyseSpine, type Segmenter, type SpineResult } from '../../segmentation/index.js';
import type { RoiSpec } from '../../segmentation/roi.js';
import type { Volumes } from './volumes.js';

export interface LevelInfo {
  level: string;
  volumeMm3: number;
  midSlice: number;
}

/** The segmentation as the job result stores it. */
export interface SegmentationSummary {
  ok: boolean;
  reason?: string;
  levels: LevelInfo[];
  agreement?: Record<string, number>;
}

export interface Segmentation {
  spine: SpineResult;
  summary: SegmentationSummary;
  /** Why the QA gate refused the study; null: go on. */
  reason: string | null;
}

export async function segmentStage(volumes: Volumes, segmenter: Segmenter, roi: RoiSpec): Promise<Segmentation> {
  const spine = await analyseSpine(volumes.t1, volumes.t2, { segmenter, roi });
  return {
    spine,
    summary: {
      ok: spine.ok,
      reason: spine.reason,
      levels: spine.levels.map((l) => ({ level: l.level, volumeMm3: Number(l.volumeMm3.toFixed(1)), midSlice: l.midSlice })),
      agreement: spine.agreement,
    },
    reason: spine.ok ? null : (spine.reason ?? 'segmentation failed the QA gate'),
  };
}
