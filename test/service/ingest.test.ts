import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, existsSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { writeMrSeries } from '../helpers/mr.js';
import { storescu, echoscu } from '../helpers/dcmtk.js';
import { waitFor } from '../helpers/ports.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-ingest-'));

describe('DICOM listener: receive, store durably, detect complete series', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('answers C-ECHO', () => {
    const r = echoscu(svc.dicomPort);
    expect(r.status, r.out).toBe(0);
  });

  it('stores a multi-slice MR series sent by storescu, indexes it, marks it stable and queues one job', async () => {
    const s = writeMrSeries(path.join(tmp, 'a'), { count: 12, patientName: 'SECRET^NAME', patientId: 'PID-SECRET-42' });
    const r = storescu(svc.dicomPort, s.files);
    expect(r.status, r.out).toBe(0);
    for (const sop of s.sopUids) {
      const f = path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${sop}.dcm`);
      expect(existsSync(f)).toBe(true);
      // The stored file is a Part-10 file with our meta header and the sender's dataset.
      expect(readFileSync(f).subarray(128, 132).toString('ascii')).toBe('DICM');
    }
    const series = await waitFor(async () => {
      const all = await svc.json<any[]>('/api/series');
      const row = all.find((x) => x.seriesInstanceUid === s.seriesUid);
      return row?.state === 'stable' ? row : undefined;
    }, 'series to become stable', 60_000);
    expect(series).toMatchObject({ studyInstanceUid: s.studyUid, modality: 'MR', description: 't1_tse_sag', instances: 12 });
    const study = await waitFor(async () => {
      const st = await svc.json<any>(`/api/studies/${s.studyUid}`);
      return st.jobs.length ? st : undefined;
    }, 'job to be queued', 60_000);
    expect(study.jobs).toHaveLength(1);
    expect(study.series).toHaveLength(1);
  });

  it('counts identical re-sends without re-opening the series; changed bytes re-open it', async () => {
    const s = writeMrSeries(path.join(tmp, 'dup'), { count: 3 });
    expect(storescu(svc.dicomPort, s.files).status).toBe(0);
    await waitFor(async () => (await svc.json<any>(`/api/studies/${s.studyUid}`)).jobs.length === 1, 'first job');
    expect(storescu(svc.dicomPort, s.files).status).toBe(0);
    // Each re-send is counted, or would have re-opened the series, before its C-STORE was answered: no wait needed.
    let st = await svc.json<any>(`/api/studies/${s.studyUid}`);
    expect(st.series[0].state).toBe('stable');
    expect(st.series[0].resends).toBe(3);
    expect(st.series[0].instances).toBe(3);
    expect(st.jobs).toHaveLength(1);
    // Same SOP Instance UIDs, different pixel data: replaced and re-processed. A study with a queued job gets no
    // second one (the queued job reads the latest series), so wait until the first job has been claimed: under
    // load it can still be queued behind the previous test's study.
    await waitFor(async () => (await svc.json<any>(`/api/studies/${s.studyUid}`)).jobs[0].state !== 'queued', 'the first job to be claimed');
    const f = s.files[0]!;
    const buf = readFileSync(f);
    buf[buf.length - 1] = (buf[buf.length - 1]! + 1) % 256; // last pixel byte
    writeFileSync(f, buf);
    expect(storescu(svc.dicomPort, [f]).status).toBe(0);
    await waitFor(async () => (await svc.json<any>(`/api/studies/${s.studyUid}`)).jobs.length === 2, 're-opened series to queue a second job');
    st = await svc.json<any>(`/api/studies/${s.studyUid}`);
    expect(st.series[0].instances).toBe(3);
    const stored = readFileSync(path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[0]}.dcm`));
    expect(stored[stored.length - 1]).toBe(buf[buf.length - 1]);
  });

  it('rejects malformed datasets (garbage, truncated, Part-10 preamble inside, lying length) with a failure status and a log line, and keeps serving', async () => {
    const { sendRawDataset } = await import('../helpers/rawscu.js');
    const good = writeMrSeries(path.join(tmp, 'm'), { count: 1 });
    const file = readFileSync(good.files[0]!);
    const dataset = file.subarray(132 + 12 + file.readUInt32LE(140)); // skip preamble, DICM and the meta group
    const garbage = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) % 251));
    const truncated = dataset.subarray(0, 300);
    const withPreamble = file; // the whole Part-10 file sent as if it were the dataset
    const lying = Buffer.from(dataset);
    const px = lying.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    lying.writeUInt32LE(0x7ffffff0, px + 8);
    // A well-formed element whose PixelData is half the size Rows x Columns x BitsAllocated needs.
    const pxLen = dataset.readUInt32LE(px + 8);
    const short = Buffer.concat([dataset.subarray(0, px + 12), dataset.subarray(px + 12, px + 12 + pxLen / 2)]);
    short.writeUInt32LE(pxLen / 2, px + 8);
    const cases = [['garbage', garbage], ['truncated', truncated], ['preamble', withPreamble], ['lying', lying], ['short-pixels', short]] as const;
    for (const [name, raw] of cases) {
      // The lying and short cases carry the dataset's own SOP Instance UID, so only the pixel data is wrong.
      const sop = name === 'lying' || name === 'short-pixels' ? good.sopUids[0]! : `1.2.3.4.${name.length}.${raw.length}`;
      const r = await sendRawDataset(svc.dicomPort, raw, { sopInstanceUid: sop });
      expect(r.status, `${name}: ${r.error ?? ''}`).not.toBeNull();
      expect(r.status, name).not.toBe(0);
      expect(r.status! & 0xf000, name).toBe(0xc000);
    }
    await waitFor(() => (svc.logs().match(/C-STORE rejected reason=/g) ?? []).length >= 5, 'five rejection log lines');
    expect(svc.logs()).toMatch(/malformed pixel data: PixelData holds \d+ bytes/);
    expect(echoscu(svc.dicomPort).status).toBe(0);
    expect(storescu(svc.dicomPort, good.files).status).toBe(0);
    expect(existsSync(path.join(svc.dataDir, 'studies', good.studyUid, good.seriesUid, `${good.sopUids[0]}.dcm`))).toBe(true);
  });

  it('never logs patient identifiers', () => {
    const logs = svc.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain('SECRET^NAME');
    expect(logs).not.toContain('PID-SECRET-42');
  });

  it('requires the bearer token on the API but not on /health', async () => {
    expect((await svc.api('/health', { token: null })).status).toBe(200);
    expect((await svc.api('/api/series', { token: null })).status).toBe(401);
    expect((await svc.api('/api/series', { token: 'wrong' })).status).toBe(401);
    expect((await svc.api('/api/series')).status).toBe(200);
  });
});

describe('access control and resources', () => {
  it('refuses an unknown calling AE when the allowlist is set; C-ECHO from an allowed AE works', async () => {
    const svc = await startService({ env: { OSTEOSCREEN_DICOM_ALLOWED_CALLING_AE_TITLES: 'MODALITY1,PACS' } });
    try {
      const refused = echoscu(svc.dicomPort, { aet: 'INTRUDER' });
      expect(refused.status).not.toBe(0);
      expect(refused.out).toMatch(/Reject|refused/i);
      expect(echoscu(svc.dicomPort, { aet: 'PACS' }).status).toBe(0);
      await waitFor(() => /association refused.*reason=calling-ae/.test(svc.logs()), 'refusal log line');
    } finally {
      await svc.stop();
    }
  });

  it('answers A700 (out of resources) when free disk is below the threshold, storing nothing', async () => {
    const svc = await startService({ env: { OSTEOSCREEN_STORAGE_MIN_FREE_MB: String(1e12) } });
    try {
      const s = writeMrSeries(path.join(tmp, 'full'), { count: 2 });
      const r = storescu(svc.dicomPort, s.files, { extra: ['-v'] });
      expect(r.out).toMatch(/Refused: OutOfResources/);
      expect(existsSync(path.join(svc.dataDir, 'studies', s.studyUid))).toBe(false);
      await waitFor(() => /C-STORE refused: out of resources/.test(svc.logs()), 'out-of-resources log line');
    } finally {
      await svc.stop();
    }
  });

  it('fails with a one-line error when the DICOM port is in use', async () => {
    const a = await startService();
    try {
      const { spawnSync } = await import('node:child_process');
      const { CLI } = await import('../helpers/service.js');
      const r = spawnSync(process.execPath, [CLI, 'serve', '--port', String(a.dicomPort), '--http-port', '0', '--data', mkdtempSync(path.join(os.tmpdir(), 'osteo-p-'))], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/DICOM port \d+ is already in use/);
    } finally {
      await a.stop();
    }
  });
});

describe('restart safety', () => {
  it('kill -9 during a 200-instance transfer loses no acknowledged instance; re-send completes the series', async () => {
    const s = writeMrSeries(path.join(tmp, 'kill'), { count: 200, rows: 64, columns: 64 });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'osteo-kill-'));
    // Test-only hook: the 41st C-STORE (and any after it) waits with its dataset received but not stored or answered.
    let svc = await startService({ dataDir, env: { OSTEOSCREEN_TEST_PAUSE_AT: 'receiving:41' } });
    const { storescuAsync } = await import('../helpers/dcmtk.js');
    const child = storescuAsync(svc.dicomPort, s.files, { extra: ['-v'] });
    // Listen for the exit now: storescu may exit (connection reset) while svc.stop() is still being awaited below.
    const childExited = new Promise((r) => child.on('exit', r));
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    // 40 acknowledged and the service waiting in the 41st: kill it hard there, mid-transfer whatever the load.
    await waitFor(() => (out.match(/Received Store Response \(Success\)/g) ?? []).length >= 40 && /\[test-pause\] TEST PAUSE.* stage=receiving arrival=41/.test(svc.logs()), 'the 41st instance to pause', 60_000, 20);
    svc.proc.kill('SIGKILL');
    await svc.stop();
    await childExited;
    const acked = (out.match(/Received Store Response \(Success\)/g) ?? []).length;
    expect(acked).toBe(40);
    // The instance in flight at the kill was never acknowledged, and is not stored.
    expect(existsSync(path.join(dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[40]}.dcm`))).toBe(false);
    // Every file acknowledged (storescu sends in order) is on disk, complete (same bytes hash of pixel data tail).
    for (let i = 0; i < acked; i++) {
      const f = path.join(dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[i]}.dcm`);
      expect(existsSync(f), `instance ${i} acknowledged but missing`).toBe(true);
      const orig = readFileSync(s.files[i]!);
      const stored = readFileSync(f);
      const tail = (b: Buffer) => createHash('sha256').update(b.subarray(b.length - 64 * 64 * 2)).digest('hex');
      expect(tail(stored)).toBe(tail(orig));
      expect(statSync(f).size).toBeGreaterThan(64 * 64 * 2);
    }
    svc = await startService({ dataDir });
    try {
      expect(storescu(svc.dicomPort, s.files).status).toBe(0);
      const row = await waitFor(async () => {
        const all = await svc.json<any[]>('/api/series');
        const x = all.find((r) => r.seriesInstanceUid === s.seriesUid);
        return x?.state === 'stable' ? x : undefined;
      }, 'series stable after restart');
      expect(row.instances).toBe(200);
    } finally {
      await svc.stop();
    }
  });
});
