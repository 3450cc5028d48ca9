/**
 * Stage 1, select: the sagittal T1 / T2 pair of the study model (src/pipeline/selection.ts rules), every other
 * series with the reason it was skipped; then the source header (patient and study modules of the reports) and the
 * scanner, both from the headers already parsed.
 */
import type { Config } from '../../config/schema.js';
import { errorMessage } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { SourceHeader } from '../../report/index.js';
import type { SelectionRecord } from '../../store/types.js';
import { selectSeries } from '../selection.js';
import { firstDatasetOf, seriesOf, type StudyModel, type StudySeries } from '../study-model.js';

const log = logger('analyse');

export interface Selection {
  /** As the job result stores it: the chosen series UIDs and why each other series was skipped. */
  record: SelectionRecord;
  t1?: StudySeries;
  t2?: StudySeries;
  /** Some readable series is MR (a not-assessable MR study still gets a report saying why). */
  anyMr: boolean;
  /** Why the study is not assessable (no T1 / no T2); null: go on. */
  reason: string | null;
}

export interface Scanner {
  manufacturer: string;
  model: string;
  station: string;
}

/** The header the reports copy the patient and study modules from (T1 preferred), and the scanner it names. */
export interface StudySource {
  header: SourceHeader;
  scanner: Scanner;
}

export function selectStage(study: StudyModel, rules: Config['selection']): Selection {
  const unreadable = study.series.filter((s) => !s.summary).map((s) => ({ series: s.seriesUid, reason: `unreadable header: ${errorMessage(s.unreadable)}` }));
  const headers = study.series.flatMap((s) => (s.summary ? [s.summary] : []));
  const sel = selectSeries(headers, rules);
  return {
    record: { t1: sel.t1, t2: sel.t2, skipped: [...unreadable, ...sel.skipped] },
    t1: seriesOf(study, sel.t1),
    t2: seriesOf(study, sel.t2),
    anyMr: headers.some((h) => h.modality === 'MR'),
    reason: !sel.t1 || !sel.t2 ? (sel.notAssessableReason ?? (!sel.t1 ? 'no sagittal T1' : 'no sagittal T2')) : null,
  };
}

export function logSkipped(studyUid: string, selection: Selection): void {
  for (const s of selection.record.skipped) log.info('series skipped', { studyUid, seriesUid: s.series, reason: s.reason });
}

/** The first T1 instance's header, else the study's first instance's; null when there is no file at all. */
export function studySource(study: StudyModel, selection: Selection): StudySource | null {
  const ds = selection.t1?.files.length ? firstDatasetOf(selection.t1) : firstDatasetOf(study.series[0]);
  if (!ds) return null;
  return {
    header: ds as SourceHeader,
    scanner: { manufacturer: String(ds.Manufacturer ?? ''), model: String(ds.ManufacturerModelName ?? ''), station: String(ds.StationName ?? '') },
  };
}
