/**
 * The study model the analysis stages share: every series of the study with the parsed header of each of its
 * instances, read once (header only, no pixel data). Selection, the scanner, the report's source header, the SR
 * evidence and the SEG's slice instances all come from here; only the volume stage reads the files again, for the
 * pixel data.
 */
import { readFileSync } from 'node:fs';
import { OsteoError } from '../common/errors.js';
import { instanceHeaderOf, parseDicom, type InstanceHeader } from '../dicom/header.js';
import { summariseSeries, type SeriesHeader } from './selection.js';

/** The files of one series, as the store index (service) or the folder scan (cohort) grouped them. */
export interface SeriesFiles {
  seriesUid: string;
  files: string[];
}

export interface StudySeries {
  /** The series UID the files were grouped under. */
  seriesUid: string;
  files: string[];
  /** Parsed header of each instance, in file order (up to the first unreadable file). */
  instances: InstanceHeader[];
  /** Naturalized dataset of the first instance: the reports copy the patient and study modules from it. */
  firstDataset: Record<string, any> | null;
  /** What the selection rules look at; null when a file could not be read (see `unreadable`). */
  summary: SeriesHeader | null;
  /** Why the series' headers could not be read (the first failing file), else null. */
  unreadable: unknown;
}

export interface StudyModel {
  studyUid: string;
  series: StudySeries[];
}

/** Read the headers of a series' files once (stops at the first unreadable file). */
export function readStudySeries(s: SeriesFiles): StudySeries {
  const out: StudySeries = { seriesUid: s.seriesUid, files: s.files, instances: [], firstDataset: null, summary: null, unreadable: null };
  try {
    if (!s.files.length) throw new OsteoError('series-empty', 'series has no files');
    for (const file of s.files) {
      const { meta, dataset } = parseDicom(readFileSync(file));
      out.firstDataset ??= dataset;
      out.instances.push(instanceHeaderOf(file, meta, dataset));
    }
    out.summary = summariseSeries(out.instances);
  } catch (e) {
    out.unreadable = e;
  }
  return out;
}

/** Build the study model from the study's files (each header parsed once). */
export function buildStudyModel(studyUid: string, series: SeriesFiles[]): StudyModel {
  return { studyUid, series: series.map(readStudySeries) };
}

/** The series grouped under `uid` (the first one, as the files were listed); undefined for null or unknown. */
export function seriesOf(study: StudyModel, uid: string | null): StudySeries | undefined {
  return uid === null ? undefined : study.series.find((s) => s.seriesUid === uid);
}

/**
 * Naturalized header of the first instance of `series`; null when it has no files. Throws why the file could not
 * be read when the first file itself was unreadable.
 */
export function firstDatasetOf(series: StudySeries | undefined): Record<string, any> | null {
  if (!series?.files.length) return null;
  if (series.firstDataset) return series.firstDataset;
  throw series.unreadable;
}
