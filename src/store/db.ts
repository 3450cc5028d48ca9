import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type DB = Database.Database;

/** The index file in a data folder. */
export const INDEX_FILE = 'index.sqlite';

/** A connection's statements by SQL text, each prepared once (on first use) and reused. */
export type Statements = (sql: string) => Database.Statement;

const caches = new WeakMap<DB, Statements>();

/** The statements of one connection (one cache per connection, shared by the store classes on it). */
export function statements(db: DB): Statements {
  const known = caches.get(db);
  if (known) return known;
  const cache = new Map<string, Database.Statement>();
  const sql: Statements = (text) => {
    let st = cache.get(text);
    if (!st) cache.set(text, (st = db.prepare(text)));
    return st;
  };
  caches.set(db, sql);
  return sql;
}

/** Ordered schema migrations; `user_version` records how many have been applied. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE studies (
    study_uid TEXT PRIMARY KEY,
    patient_name TEXT, patient_id TEXT, patient_birth_date TEXT, patient_sex TEXT,
    study_date TEXT, study_time TEXT, accession_number TEXT, study_description TEXT,
    state TEXT NOT NULL DEFAULT 'receiving',
    reason TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE TABLE series (
    series_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL REFERENCES studies(study_uid) ON DELETE CASCADE,
    modality TEXT, description TEXT, body_part TEXT, series_number INTEGER,
    sop_class_uid TEXT, image_orientation TEXT, repetition_time REAL, echo_time REAL, inversion_time REAL,
    image_type TEXT, manufacturer TEXT, manufacturer_model TEXT, station_name TEXT,
    instances INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, resends INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'receiving', reason TEXT,
    first_received INTEGER NOT NULL, last_received INTEGER NOT NULL, stable_at INTEGER
  );
  CREATE INDEX series_study ON series(study_uid);
  CREATE INDEX series_state ON series(state, last_received);
  CREATE TABLE instances (
    sop_uid TEXT PRIMARY KEY,
    series_uid TEXT NOT NULL REFERENCES series(series_uid) ON DELETE CASCADE,
    study_uid TEXT NOT NULL,
    sop_class_uid TEXT, transfer_syntax TEXT, instance_number INTEGER, slice_position TEXT,
    path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    received_at INTEGER NOT NULL, calling_ae TEXT, resends INTEGER NOT NULL DEFAULT 0,
    files_deleted INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX instances_series ON instances(series_uid);
  CREATE INDEX instances_study ON instances(study_uid);
  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_uid TEXT NOT NULL REFERENCES studies(study_uid) ON DELETE CASCADE,
    state TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    trigger TEXT NOT NULL DEFAULT 'stable',
    selection TEXT, segmentation TEXT, result TEXT, timings TEXT,
    created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, updated_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_state ON jobs(state, id);
  CREATE INDEX jobs_study ON jobs(study_uid, id);
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_uid TEXT NOT NULL,
    job_id INTEGER,
    kind TEXT NOT NULL,
    destination TEXT NOT NULL,
    path TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL, sent_at INTEGER, updated_at INTEGER NOT NULL,
    UNIQUE (sop_uid, destination)
  );
  CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL, actor TEXT NOT NULL, ip TEXT, action TEXT NOT NULL, target TEXT, detail TEXT
  );
  CREATE TABLE drift (
    scanner TEXT NOT NULL, sequence TEXT NOT NULL, feature TEXT NOT NULL,
    n INTEGER NOT NULL, mean REAL NOT NULL, m2 REAL NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (scanner, sequence, feature)
  );
  `,
  // 2: per-scanner calibration (src/store/calibration.ts)
  `
  CREATE TABLE scanner_studies (
    scanner TEXT NOT NULL, study_uid TEXT NOT NULL, job_id INTEGER NOT NULL,
    terms TEXT NOT NULL, recorded_at INTEGER NOT NULL,
    PRIMARY KEY (scanner, study_uid)
  );
  CREATE TABLE calibrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scanner TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,
    model_file TEXT, model_name TEXT, model_version TEXT, model_hash TEXT, base_hash TEXT,
    actor TEXT NOT NULL, at INTEGER NOT NULL, detail TEXT
  );
  CREATE INDEX calibrations_scanner ON calibrations(scanner, state);
  `,
  // 3: the job result's flag, score, cut-off and model version as columns (src/store/job-result.ts), back-filled.
  `
  ALTER TABLE jobs ADD COLUMN flag INTEGER;
  ALTER TABLE jobs ADD COLUMN score REAL;
  ALTER TABLE jobs ADD COLUMN cutoff REAL;
  ALTER TABLE jobs ADD COLUMN model_version TEXT;
  UPDATE jobs SET flag = json_extract(result, '$.flag'), score = json_extract(result, '$.score'),
    cutoff = json_extract(result, '$.cutoff'), model_version = json_extract(result, '$.model.version')
    WHERE result IS NOT NULL AND json_valid(result);
  CREATE INDEX jobs_flag ON jobs(flag, id);
  `,
  // 4: DXA outcomes and the identity of screened studies (src/store/outcomes.ts, issue 26)
  `
  CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id TEXT NOT NULL, issuer TEXT NOT NULL, dxa_date TEXT NOT NULL,
    t_score REAL, z_score REAL, t_site TEXT, z_site TEXT, age REAL, sex TEXT,
    source TEXT NOT NULL, source_ref TEXT, received_at INTEGER NOT NULL,
    UNIQUE (patient_id, issuer, dxa_date)
  );
  CREATE TABLE screened_studies (
    study_uid TEXT PRIMARY KEY, job_id INTEGER NOT NULL, scanner TEXT NOT NULL,
    patient_id TEXT, issuer TEXT, identity_problem TEXT, study_date TEXT,
    score REAL NOT NULL, cutoff REAL NOT NULL, model_name TEXT NOT NULL, model_version TEXT NOT NULL, model_hash TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
  );
  CREATE INDEX screened_patient ON screened_studies(patient_id, issuer);
  `,
  // 5: retrospective backfill campaigns (src/store/backfill.ts)
  `
  CREATE TABLE backfill_campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    query TEXT NOT NULL,
    send_to_pacs INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    reason TEXT,
    cursor TEXT,
    backoff_until INTEGER NOT NULL DEFAULT 0,
    backoff_seconds REAL NOT NULL DEFAULT 0,
    actor TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER
  );
  CREATE TABLE backfill_studies (
    campaign_id INTEGER NOT NULL REFERENCES backfill_campaigns(id) ON DELETE CASCADE,
    study_uid TEXT NOT NULL,
    study_date TEXT, accession TEXT, description TEXT, modalities TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    series TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    instances INTEGER,
    retrieve_seconds REAL,
    found_at INTEGER NOT NULL, started_at INTEGER, retrieved_at INTEGER, finished_at INTEGER,
    PRIMARY KEY (campaign_id, study_uid)
  );
  CREATE INDEX backfill_studies_state ON backfill_studies(state, campaign_id);
  CREATE INDEX backfill_studies_uid ON backfill_studies(study_uid);
  CREATE INDEX backfill_studies_started ON backfill_studies(started_at);
  `,
];

/** Open (and migrate) the SQLite index in WAL mode. */
export function openDb(file: string): DB {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a crash of the process loses nothing; instance files are fsynced before their row is written.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
