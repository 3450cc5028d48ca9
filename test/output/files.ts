/** The three outputs a study produces (SR, summary image, SEG), written by the report builders into `dir`. */
import { join } from 'node:path';
import { writePart10 } from '../../src/dicom/write.js';
import { buildSeg, buildSr, buildSummaryImage } from '../../src/report/index.js';
import { deterministicUid } from '../../src/dicom/uid.js';
import { splitPart10 } from '../../src/dicom/raw-dataset.js';
import { readFileSync } from 'node:fs';
import { makeInput, MR_STORAGE, T1_SERIES } from '../report/inputs.js';
import type { AnalyseResult } from '../../src/pipeline/analyse.js';

export interface OutputFile {
  kind: string;
  path: string;
  sopUid: string;
}

export function writeStudyOutputs(dir: string, revision = 1): OutputFile[] {
  const input = makeInput('scored', { revision });
  const data = new Uint8Array(16 * 16 * 3);
  for (let j = 4; j < 10; j++) for (let i = 3; i < 12; i++) data[i + j * 16 + 16 * 16] = 1;
  const seg = buildSeg(input, {
    labels: { dims: [16, 16, 3], spacing: [1, 1, 5], origin: [0, 0, 0], direction: [0, 0, 1, 1, 0, 0, 0, -1, 0], data },
    frameOfReferenceUid: deterministicUid('test-for', 'stow'),
    sliceInstances: [1, 2, 3].map((k) => ({ sopClassUid: MR_STORAGE, sopInstanceUid: deterministicUid(T1_SERIES, 'inst', k) })),
    sourceSeriesInstanceUid: T1_SERIES,
  })!;
  const files = [
    { kind: 'sr', path: writePart10(buildSr(input), join(dir, `sr-${revision}.dcm`)) },
    { kind: 'summary', path: writePart10(buildSummaryImage(input), join(dir, `sc-${revision}.dcm`)) },
    { kind: 'seg', path: writePart10(seg, join(dir, `seg-${revision}.dcm`)) },
  ];
  return files.map((f) => ({ ...f, sopUid: splitPart10(readFileSync(f.path)).sopInstanceUid }));
}

/** What the analysis hands the processor for a study whose report files are `files` (not assessable when `score` says so). */
export function analysisResult(files: OutputFile[], score: AnalyseResult['score'], reason: string | null): AnalyseResult {
  return {
    state: score && 'notAssessable' in score ? 'not-assessable' : 'done',
    reason,
    selection: {} as AnalyseResult['selection'],
    segmentation: null,
    features: null,
    score,
    scanner: null,
    modelChoice: null,
    reportFiles: files.map((f) => ({ kind: f.kind, path: f.path, sopInstanceUid: f.sopUid })),
    timings: {},
  };
}
