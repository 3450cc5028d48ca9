import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import type { DB } from '../../src/store/db.js';
import { rawIndex } from '../helpers/raw-index.js';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics } from '../../src/common/metrics.js';
import { setLogSink } from '../../src/common/log.js';
import { startHousekeeping, outboxSweep } from '../../src/admin/index.js';
import { waitFor } from '../helpers/ports.js';

const DAY = 86_400_000;

describe('housekeeping', () => {
  let store: Store;
  let db: DB;
  let lines: string[];
  beforeEach(() => {
    store = openStore(mkdtempSync(path.join(os.tmpdir(), 'osteo-hk-')));
    db = rawIndex(store);
    lines = [];
    setLogSink((l) => lines.push(l));
  });
  afterEach(() => {
    setLogSink((l) => process.stderr.write(l + '\n'));
    db.close();
    store.close();
  });

  function addStudy(ageDays: number, state: string) {
    const study = `1.2.3.${Math.floor(Math.random() * 1e9)}`;
    const series = study + '.1';
    const sop = study + '.1.1';
    const tmp = store.blobs.tempPath();
    writeFileSync(tmp, 'x'.repeat(100));
    const final = store.blobs.instancePath(study, series, sop);
    store.blobs.commit(tmp, final);
    const t = Date.now() - ageDays * DAY;
    utimesSync(final, new Date(t - 1000), new Date(t - 1000));
    store.index.recordInstance(
      { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: sop, studyInstanceUid: study, seriesInstanceUid: series, transferSyntaxUid: '1.2.840.10008.1.2.1', patientName: 'SECRET^PATIENT', patientId: 'PID-777' },
      { path: final, size: 100, sha256: 'x' },
      'SCU',
    );
    db.prepare("UPDATE series SET state = 'stable' WHERE study_uid = ?").run(study);
    db.prepare('UPDATE instances SET received_at = ? WHERE study_uid = ?').run(t, study);
    db.prepare('UPDATE studies SET state = ?, updated_at = ? WHERE study_uid = ?').run(state, t, study);
    // As the store writes a finished job: the result JSON and its flag/score columns.
    db.prepare('INSERT INTO jobs (study_uid, state, trigger, result, flag, score, created_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      study, state, 'stable', JSON.stringify({ kind: 'scored', flag: true, score: 1 }), 1, 1, Date.now(), Date.now(), Date.now(),
    );
    return { study, file: final };
  }

  it('runs each task on demand with start/end log lines, applies retention from config, logs a summary without patient data', async () => {
    const config = configSchema.parse({ housekeeping: { retentionDays: 10 } });
    const metrics = createMetrics();
    const old = addStudy(20, 'done');
    const recent = addStudy(2, 'done');
    const hk = startHousekeeping({ config, store, metrics });
    try {
      const r = await hk.runNow('retention');
      expect(r).toMatchObject({ studies: 1, files: 1, bytes: 100, days: 10 });
      expect(existsSync(old.file)).toBe(false);
      expect(existsSync(recent.file)).toBe(true);
      const v = await hk.runNow('vacuum');
      expect(v).toHaveProperty('checkpoint');
      const s = await hk.runNow('summary');
      expect(s).toMatchObject({ studiesReceived: 2, jobsDone: 2, flagged: 2, deadLetters: 0 });
      await hk.runNow('outbox');
      const text = lines.join('\n');
      for (const task of ['retention', 'vacuum', 'summary', 'outbox']) {
        expect(text).toMatch(new RegExp(`housekeeping task started task=${task}`));
        expect(text).toMatch(new RegExp(`housekeeping task finished task=${task}`));
      }
      expect(text).toMatch(/daily summary .*studiesReceived=2 .*flagged=2/);
      expect(text).not.toMatch(/SECRET|PID-777/);
      const st = hk.status();
      expect(st.map((x) => x.task)).toEqual(['retention', 'outbox', 'vacuum', 'summary']);
      expect(st.every((x) => x.lastRun && x.nextRun && !x.lastError)).toBe(true);
      expect(metrics.registry.render()).toMatch(/osteoscreen_housekeeping_runs_total\{result="ok",task="retention"\} 1/);
      await expect(hk.runNow('bogus' as never)).rejects.toThrow(/unknown housekeeping task/);
    } finally {
      hk.stop();
    }
  });

  it('vacuum checkpoints the WAL and VACUUMs when more than 20 % of the pages are free', async () => {
    db.exec('CREATE TABLE IF NOT EXISTS filler (x BLOB)');
    const ins = db.prepare('INSERT INTO filler VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 400; i++) ins.run(Buffer.alloc(4000, i));
    })();
    db.exec('DELETE FROM filler');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const before = db.pragma('page_count', { simple: true }) as number;
    const r = store.vacuum();
    expect(r.freePages / r.pages).toBeGreaterThan(0.2);
    expect(r.vacuumed).toBe(true);
    expect(db.pragma('page_count', { simple: true }) as number).toBeLessThan(before / 2);
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    // Nothing to reclaim: no VACUUM.
    expect(store.vacuum().vacuumed).toBe(false);
  });

  it('refuses an invalid cron expression from config', () => {
    const config = configSchema.parse({ housekeeping: { vacuumCron: 'every sunday' } });
    expect(() => startHousekeeping({ config, store, metrics: createMetrics() })).toThrow(/invalid cron expression for vacuum/);
  });

  it('a task does not overlap itself', async () => {
    const config = configSchema.parse({});
    let release!: () => void;
    let calls = 0;
    const hk = startHousekeeping({
      config,
      store,
      metrics: createMetrics(),
      sendDue: () => {
        calls++;
        return new Promise<void>((r) => (release = r));
      },
    });
    try {
      store.outbox.add({ studyUid: '1.2.3', jobId: null, kind: 'sr', destination: 'PACS', path: '/x', sopUid: '1.2.3.4' });
      const first = hk.runNow('outbox');
      await waitFor(() => calls === 1, 'the first sweep to be sending', 10_000, 1);
      expect(await hk.runNow('outbox')).toEqual({ skipped: 'already running' });
      release();
      expect(await first).toMatchObject({ pending: 1, due: 1 });
      expect(calls).toBe(1);
    } finally {
      hk.stop();
    }
  });

  it('outbox sweep dead-letters pending rows older than output.maxAgeHours that were tried, and nothing else', () => {
    const now = Date.now();
    const add = (sop: string, ageH: number, attempts: number, state = 'pending') => {
      store.outbox.add({ studyUid: '1.2.3', jobId: null, kind: 'sr', destination: 'PACS', path: '/x', sopUid: sop });
      db.prepare('UPDATE outbox SET created_at = ?, attempts = ?, state = ? WHERE sop_uid = ?').run(now - ageH * 3_600_000, attempts, state, sop);
    };
    add('1.1', 80, 3); // expired
    add('1.2', 80, 0); // never tried yet (sender down at start-up): left for the sender
    add('1.3', 10, 5); // young
    add('1.4', 80, 2, 'sent'); // delivered
    const r = outboxSweep(store, 72, now);
    expect(r).toMatchObject({ expired: 1, pending: 2, deadLetter: 1 });
    const states = Object.fromEntries((db.prepare('SELECT sop_uid, state, last_error FROM outbox').all() as any[]).map((x) => [x.sop_uid, x.state]));
    expect(states).toEqual({ '1.1': 'dead-letter', '1.2': 'pending', '1.3': 'pending', '1.4': 'sent' });
  });
});
