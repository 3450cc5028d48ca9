/** Build every output of one report and write them as Part-10 files into a folder. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePart10 } from '../dicom/write.js';
import { buildSeg, type SegInput } from './seg.js';
import { buildSr } from './sr.js';
import { buildSummaryImageWithPreview } from './summary.js';
import type { OutputKind } from './uids.js';
import type { ReportInput } from './types.js';

export interface ReportFile {
  kind: OutputKind;
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

export interface WriteReportOptions {
  /** Also write a DICOM SEG of the ROI (config output.seg). Skipped when the label map is empty. */
  seg?: SegInput;
  /** Also write the summary picture as `summary-<uid>.png` (for the admin UI). Default false. */
  previewPng?: boolean;
}

/**
 * Writes `sr-<SOPInstanceUID>.dcm`, `summary-<SOPInstanceUID>.dcm` and optionally `seg-<SOPInstanceUID>.dcm`
 * into `outDir`, in that order (the order to send them in). File names are UID-based, so re-writing the same
 * revision overwrites the same files.
 */
export function writeReportFiles(input: ReportInput, outDir: string, opts: WriteReportOptions = {}): { files: ReportFile[]; previewPng?: string } {
  mkdirSync(outDir, { recursive: true });
  const files: ReportFile[] = [];
  const add = (kind: OutputKind, ds: Record<string, any>) => {
    const path = writePart10(ds, join(outDir, `${kind}-${ds.SOPInstanceUID}.dcm`));
    files.push({ kind, path, sopClassUid: ds.SOPClassUID, sopInstanceUid: ds.SOPInstanceUID, seriesInstanceUid: ds.SeriesInstanceUID });
  };
  add('sr', buildSr(input));
  const summary = buildSummaryImageWithPreview(input);
  add('summary', summary.dataset);
  let previewPng: string | undefined;
  if (opts.previewPng) {
    previewPng = join(outDir, `summary-${summary.dataset.SOPInstanceUID}.png`);
    writeFileSync(previewPng, summary.png);
  }
  if (opts.seg) {
    const seg = buildSeg(input, opts.seg);
    if (seg) add('seg', seg);
  }
  return { files, previewPng };
}
