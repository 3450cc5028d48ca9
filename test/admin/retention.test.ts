import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync, mkdirSync, utimesSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import type { DB } from '../../src/store/db.js';
import { rawIndex } from '../helpers/raw-index.js';
import { runRetention, retentionCandidates, deleteStudyFiles, outputsDir } from '../../src/admin/retention.js';

const DAY = 86_400_000;
let n = 0;
/** A second connection to the store's index, to age rows and read files_deleted. */
let db: DB;
const nextUid = () => `1.2.826.0.1.3680043.10.9999.${process.pid}.${++n}`;

/** Write real instance files through the BlobStore and index them, then age the study. */
function makeStudy(store: Store, opts: { state: string; ageDays: number; series?: number; perSeries?: number; seriesState?: 'receiving' | 'stable'; job?: string }) {
  const studyUid = nextUid();
  const files: string[] = [];
  const t = Date.now() - opts.ageDays * DAY;
  for (let s = 0; s < (opts.series ?? 2); s++) {
    const seriesUid = nextUid();
    for (let i = 0; i < (opts.perSeries ?? 3); i++) {
      const sop = nextUid();
      const tmp = store.blobs.tempPath();
      writeFileSync(tmp, Buffer.alloc(1000 + i, i));
      const final = store.blobs.instancePath(studyUid, seriesUid, sop);
      store.blobs.commit(tmp, final);
      utimesSync(final, new Date(t - 1000), new Date(t - 1000));
      store.index.recordInstance(
        { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: sop, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, transferSyntaxUid: '1.2.840.10008.1.2.1', modality: 'MR', patientName: 'RET^TEST' },
        { path: final, size: 1000 + i, sha256: 'x' },
        'TESTSCU',
      );
      files.push(final);
    }
  }
  db.prepare('UPDATE instances SET received_at = ? WHERE study_uid = ?').run(t, studyUid);
  db.prepare('UPDATE series SET state = ?, last_received = ?, first_received = ? WHERE study_uid = ?').run(opts.seriesState ?? 'stable', t, t, studyUid);
  db.prepare('UPDATE studies SET state = ?, updated_at = ?, created_at = ? WHERE study_uid = ?').run(opts.state, t, t, studyUid);
  if (opts.job) {
    db.prepare('INSERT INTO jobs (study_uid, state, trigger, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(studyUid, opts.job, 'stable', t, t);
  }
  // A report output that retention must keep.
  const out = outputsDir(store.dir, studyUid);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'sr-1.dcm'), 'report');
  return { studyUid, files, out };
}

function snapshot(store: Store) {
  const tables = ['studies', 'series', 'instances', 'jobs', 'outbox', 'audit'];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all().map((r) => JSON.stringify({ ...(r as object), files_deleted: undefined }))]));
}

describe('retention: deletes exactly the instance files of old finished studies, keeps rows and reports', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'osteo-ret-'));
    store = openStore(dir);
    db = rawIndex(store);
  });
  afterEach(() => {
    db.close();
    store.close();
  });

  it('selects and deletes only eligible studies', () => {
    const oldDone = makeStudy(store, { state: 'done', ageDays: 40, job: 'done' });
    const oldNa = makeStudy(store, { state: 'not-assessable', ageDays: 31, job: 'not-assessable' });
    const oldFailed = makeStudy(store, { state: 'failed', ageDays: 100, job: 'failed' });
    const recentDone = makeStudy(store, { state: 'done', ageDays: 29, job: 'done' });
    const oldProcessing = makeStudy(store, { state: 'processing', ageDays: 40, job: 'processing' });
    const oldQueued = makeStudy(store, { state: 'queued', ageDays: 40, job: 'queued' });
    const oldReceiving = makeStudy(store, { state: 'receiving', ageDays: 40, seriesState: 'receiving' });
    // Finished, but a re-run is queued for it: must be kept.
    const oldDoneRerun = makeStudy(store, { state: 'done', ageDays: 40, job: 'done' });
    db.prepare("INSERT INTO jobs (study_uid, state, trigger, created_at, updated_at) VALUES (?, 'queued', 'rerun', 1, 1)").run(oldDoneRerun.studyUid);
    // Study state says done but one series re-opened (instances arriving): kept.
    const oldDoneOpen = makeStudy(store, { state: 'done', ageDays: 40, job: 'done' });
    db.prepare("UPDATE series SET state = 'receiving' WHERE series_uid = (SELECT series_uid FROM series WHERE study_uid = ? LIMIT 1)").run(oldDoneOpen.studyUid);

    const before = snapshot(store);
    const expectDeleted = [oldDone, oldNa, oldFailed];
    const expectKept = [recentDone, oldProcessing, oldQueued, oldReceiving, oldDoneRerun, oldDoneOpen];

    expect(new Set(retentionCandidates(store, 30))).toEqual(new Set(expectDeleted.map((s) => s.studyUid)));
    const bytes = expectDeleted.flatMap((s) => s.files).reduce((a, f) => a + statSync(f).size, 0);
    const r = runRetention(store, 30);
    expect(r).toEqual({ studies: 3, files: 18, bytes, skipped: 0 });

    for (const s of expectDeleted) {
      for (const f of s.files) expect(existsSync(f), f).toBe(false);
      // The empty study folder is gone too, the report is not.
      expect(existsSync(path.join(store.blobs.studiesDir, s.studyUid))).toBe(false);
      expect(existsSync(path.join(s.out, 'sr-1.dcm'))).toBe(true);
      const rows = db.prepare('SELECT files_deleted FROM instances WHERE study_uid = ?').all(s.studyUid) as { files_deleted: number }[];
      expect(rows).toHaveLength(6);
      expect(rows.every((x) => x.files_deleted === 1)).toBe(true);
    }
    for (const s of expectKept) {
      for (const f of s.files) expect(existsSync(f), f).toBe(true);
      const rows = db.prepare('SELECT files_deleted FROM instances WHERE study_uid = ?').all(s.studyUid) as { files_deleted: number }[];
      expect(rows.every((x) => x.files_deleted === 0)).toBe(true);
    }
    // Every row of every table is still there, unchanged apart from files_deleted.
    expect(snapshot(store)).toEqual(before);
    // Nothing else on disk was touched: exactly the kept studies' folders remain.
    expect(new Set(readdirSync(store.blobs.studiesDir))).toEqual(new Set(expectKept.map((s) => s.studyUid)));

    // Idempotent: a second run finds nothing.
    expect(runRetention(store, 30)).toEqual({ studies: 0, files: 0, bytes: 0, skipped: 0 });
  });

  it('0 days keeps everything', () => {
    const s = makeStudy(store, { state: 'done', ageDays: 400, job: 'done' });
    expect(runRetention(store, 0)).toEqual({ studies: 0, files: 0, bytes: 0, skipped: 0 });
    for (const f of s.files) expect(existsSync(f)).toBe(true);
  });

  it('keeps a file that is newer than its row (a resend racing with retention) and a file outside the instance store', () => {
    const s = makeStudy(store, { state: 'done', ageDays: 40, job: 'done' });
    const fresh = s.files[0]!;
    utimesSync(fresh, new Date(), new Date());
    const outside = path.join(dir, 'not-an-instance.dcm');
    writeFileSync(outside, 'keep me');
    db.prepare('UPDATE instances SET path = ? WHERE path = ?').run(outside, s.files[1]!);
    const r = deleteStudyFiles(store, s.studyUid);
    expect(r.skipped).toBe(2);
    expect(r.files).toBe(4);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(outside)).toBe(true);
    const kept = db.prepare('SELECT COUNT(*) AS n FROM instances WHERE study_uid = ? AND files_deleted = 0').get(s.studyUid) as { n: number };
    expect(kept.n).toBe(2);
  });
});
