import { z } from 'zod';

export const STUDY_STATES = ['receiving', 'stable', 'queued', 'processing', 'done', 'failed', 'not-assessable'] as const;
export type StudyState = (typeof STUDY_STATES)[number];
export const JOB_STATES = ['queued', 'processing', 'done', 'failed', 'not-assessable'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const SERIES_STATES = ['receiving', 'stable'] as const;
export type SeriesState = (typeof SERIES_STATES)[number];
export const OUTBOX_STATES = ['pending', 'sent', 'dead-letter'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** Allowed job transitions (anything else is a bug). */
export const JOB_TRANSITIONS: Record<JobState, JobState[]> = {
  queued: ['processing'],
  processing: ['done', 'failed', 'not-assessable', 'queued'],
  done: [],
  failed: ['queued'],
  'not-assessable': [],
};

/** Tags of one received instance that the index keeps (defined with the tag reader; later stages read the files). */
export type { InstanceMeta } from '../dicom/tags.js';

export interface SeriesRow {
  series_uid: string;
  study_uid: string;
  modality: string | null;
  description: string | null;
  body_part: string | null;
  series_number: number | null;
  sop_class_uid: string | null;
  image_orientation: string | null;
  repetition_time: number | null;
  echo_time: number | null;
  inversion_time: number | null;
  image_type: string | null;
  manufacturer: string | null;
  manufacturer_model: string | null;
  station_name: string | null;
  instances: number;
  bytes: number;
  resends: number;
  state: SeriesState;
  reason: string | null;
  first_received: number;
  last_received: number;
  stable_at: number | null;
}

export interface StudyRow {
  study_uid: string;
  patient_name: string | null;
  patient_id: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  study_description: string | null;
  state: StudyState;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface InstanceRow {
  sop_uid: string;
  series_uid: string;
  study_uid: string;
  sop_class_uid: string | null;
  transfer_syntax: string | null;
  instance_number: number | null;
  slice_position: string | null;
  path: string;
  size: number;
  sha256: string;
  received_at: number;
  calling_ae: string | null;
  resends: number;
  files_deleted: number;
}

export interface JobRow {
  id: number;
  study_uid: string;
  state: JobState;
  reason: string | null;
  attempts: number;
  trigger: string;
  selection: string | null;
  segmentation: string | null;
  /** JSON of the job result (src/store/job-result.ts; read it with parseJobResult). */
  result: string | null;
  timings: string | null;
  /** From the result: 1 flagged, 0 not flagged, null no flag (not assessable, suppressed, or not finished). */
  flag: number | null;
  score: number | null;
  cutoff: number | null;
  model_version: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface OutboxRow {
  id: number;
  study_uid: string;
  job_id: number | null;
  kind: string;
  destination: string;
  path: string;
  sop_uid: string;
  state: OutboxState;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
  updated_at: number;
}

/** JSON columns are parsed through schemas on read (never trust what is on disk). */
export const selectionSchema = z.object({
  t1: z.string().nullable(),
  t2: z.string().nullable(),
  skipped: z.array(z.object({ series: z.string(), reason: z.string() })),
});
export type SelectionRecord = z.infer<typeof selectionSchema>;
