/** Writes generated phantom studies to disk: DICOM series, ground-truth NIfTI label maps and JSON manifests. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeNifti } from '../volume/nifti.js';
import { logger } from '../common/log.js';
import { writeSeries } from './dicom-writer.js';
import { generateStudy, type GenerateOptions, type PhantomStudy } from './generate.js';
import type { BoneState, LevelName } from './anatomy.js';
import type { SeriesRole, Vendor } from './protocol.js';
import type { Geometry } from '../volume/types.js';

const log = logger('phantom');

export interface SeriesManifest {
  role: SeriesRole;
  /** true for the series a correct selection must pick (sagittal T1 / T2) */
  expectedSelection: 't1' | 't2' | null;
  seriesInstanceUID: string;
  seriesNumber: number;
  description: string;
  /** folder of the DICOM files, relative to the output root */
  dir: string;
  files: string[];
  sopInstanceUIDs: string[];
  enhanced: boolean;
  repetitionTime: number;
  echoTime: number;
  inversionTime?: number;
  imageType: string[];
  /** volume geometry in LPS (k ascending along row × col); null for the multi-plane localizer */
  geometry: Geometry | null;
  rescaleSlope: number;
  levelsPresent: LevelName[];
  /** ground truth files relative to the output root */
  truth: { levels?: string; tissue?: string; image?: string };
}

export interface StudyManifest {
  generator: 'osteoscreen-phantom';
  note: string;
  seed: number;
  index: number;
  /** folder of the study, relative to the output root */
  dir: string;
  studyInstanceUID: string;
  patientId: string;
  vendor: Vendor;
  bone: BoneState;
  /** 1 = low bone mass (abnormal), 0 = normal */
  label: 0 | 1;
  enhanced: boolean;
  levelsPresent: LevelName[];
  levelLabels: Record<string, number>;
  tissueClasses: Record<string, number>;
  params: Record<string, unknown>;
  series: SeriesManifest[];
}

export interface WriteOptions extends Omit<GenerateOptions, 'index'> {
  out: string;
  count: number;
  /** first study index (default 0) */
  start?: number;
  /** also write the real-valued image of each sagittal series as NIfTI (truth/<role>_image.nii.gz) */
  niftiImages?: boolean;
  onStudy?: (m: StudyManifest) => void;
}

export const LEVEL_LABELS_DOC = { L1: 1, L2: 2, L3: 3, L4: 4, L5: 5, T10: 10, T11: 11, T12: 12, S1: 20, S2: 21 };
export const TISSUE_CLASSES_DOC = {
  background: 0,
  vertebralMarrow: 1,
  corticalBone: 2,
  disc: 3,
  csf: 4,
  cordCauda: 5,
  posteriorElements: 6,
  muscle: 7,
  subcutaneousFat: 8,
  otherSoftTissue: 9,
};

/** Write one in-memory study under `root/<dirName>`; returns its manifest. */
export function writeStudy(study: PhantomStudy, root: string, dirName: string, opts: { niftiImages?: boolean } = {}): StudyManifest {
  const sdir = join(root, dirName);
  const tdir = join(sdir, 'truth');
  // A study folder is ours: replace what an earlier run left there, so series of two studies never mix.
  rmSync(sdir, { recursive: true, force: true });
  mkdirSync(tdir, { recursive: true });
  const series: SeriesManifest[] = [];
  for (const s of study.series) {
    const dir = join(sdir, `series-${String(s.seriesNumber).padStart(2, '0')}`);
    const files = writeSeries(study, s, dir, study.enhanced);
    const truth: SeriesManifest['truth'] = {};
    if (s.geometry) {
      const lv = join(tdir, `${s.role}_levels.nii.gz`);
      writeNifti(lv, { ...s.geometry, data: s.levels, description: 'phantom level labels' }, 1);
      truth.levels = relative(root, lv);
      if (s.role !== 'axial-t2') {
        const ti = join(tdir, `${s.role}_tissue.nii.gz`);
        writeNifti(ti, { ...s.geometry, data: s.tissue, description: 'phantom tissue classes' }, 1);
        truth.tissue = relative(root, ti);
        if (opts.niftiImages) {
          const im = join(tdir, `${s.role}_image.nii.gz`);
          writeNifti(im, { ...s.geometry, data: s.image, description: 'phantom image (real-world values)' }, 1);
          truth.image = relative(root, im);
        }
      }
    }
    series.push({
      role: s.role,
      expectedSelection: s.role === 't1' ? 't1' : s.role === 't2' ? 't2' : null,
      seriesInstanceUID: s.seriesInstanceUID,
      seriesNumber: s.seriesNumber,
      description: s.description,
      dir: relative(root, dir),
      files: files.map((f) => relative(root, f)),
      sopInstanceUIDs: s.sopInstanceUIDs,
      enhanced: study.enhanced,
      repetitionTime: s.sequence.repetitionTime,
      echoTime: s.sequence.echoTime,
      ...(s.sequence.inversionTime !== undefined ? { inversionTime: s.sequence.inversionTime } : {}),
      imageType: s.imageType,
      geometry: s.geometry,
      rescaleSlope: s.rescaleSlope,
      levelsPresent: s.levelsPresent,
      truth,
    });
  }
  const a = study.anatomy;
  const t1 = study.series.find((s) => s.role === 't1') ?? study.series.find((s) => s.role === 't2');
  const manifest: StudyManifest = {
    generator: 'osteoscreen-phantom',
    note: 'Synthetic phantom for tests and model training. Not a claim of anatomical or physical realism.',
    seed: study.seed,
    index: study.index,
    dir: dirName,
    studyInstanceUID: study.studyInstanceUID,
    patientId: study.patientId,
    vendor: study.vendor,
    bone: study.bone,
    label: study.bone === 'low' ? 1 : 0,
    enhanced: study.enhanced,
    levelsPresent: t1?.levelsPresent ?? [],
    levelLabels: LEVEL_LABELS_DOC,
    tissueClasses: TISSUE_CLASSES_DOC,
    params: {
      marrowFatFraction: a.marrowFatFraction,
      textureScaleMm: a.textureScaleMm,
      textureAmplitude: a.textureAmplitude,
      sacralSlopeDeg: a.sacralSlopeDeg,
      lordosisDeg: a.lordosisDeg,
      scoliosisMm: a.scoliosisMm,
      bodySize: a.bodySize,
      backDistanceMm: a.backDistanceMm,
      subcutFatMm: a.subcutFatMm,
      patientAge: study.patientAge,
      patientSex: study.patientSex,
      vertebrae: a.vertebrae.map((v) => ({
        level: v.name,
        label: v.label,
        center: v.center.map((x) => Math.round(x * 1000) / 1000),
        heightMm: round3(v.height),
        widthMm: round3(v.width),
        depthMm: round3(v.depth),
        fatFraction: round3(v.fatFraction),
      })),
      discs: a.discs.map((d) => ({ below: d.below, above: d.above, gapMm: round3(d.gap), degenerated: d.degenerated })),
    },
    series,
  };
  writeFileSync(join(sdir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function studyDirName(index: number): string {
  return `study-${String(index + 1).padStart(4, '0')}`;
}

/** Generate and write `count` studies; writes `out/manifest.json` (array of all study manifests) too. */
export function writePhantomStudies(opts: WriteOptions): StudyManifest[] {
  mkdirSync(opts.out, { recursive: true });
  const start = opts.start ?? 0;
  const out: StudyManifest[] = [];
  for (let i = start; i < start + opts.count; i++) {
    const { out: _o, count: _c, start: _s, niftiImages, onStudy, ...gen } = opts;
    const study = generateStudy({ ...gen, index: i });
    const m = writeStudy(study, opts.out, studyDirName(i), { niftiImages });
    log.debug('study written', { study: m.studyInstanceUID, dir: m.dir, vendor: m.vendor, bone: m.bone });
    onStudy?.(m);
    out.push(m);
  }
  writeFileSync(join(opts.out, 'manifest.json'), JSON.stringify(out, null, 1));
  return out;
}
