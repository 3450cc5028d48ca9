/**
 * The listener's own C-STORE path (issue 28) end to end, in process: a raw peer sends C-STOREs in shapes a
 * well-behaved SCU rarely produces (a command split over two PDUs, a data set over many PDUs, messages alternating
 * between two presentation contexts, the next command in the same PDU as the previous data set's end) and an
 * A-RELEASE-RQ right behind the last data fragment. Every instance must be stored byte for byte, answered with
 * Success on its own context, and the A-RELEASE-RP must come after the last C-STORE-RSP.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics, type Metrics } from '../../src/common/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import { IN_MEMORY_INSTANCE_BYTES, startScp, type DicomServer } from '../../src/dicom/scp.js';
import { parseCommandSet, parsePdvs } from '../../src/dicom/dimse-fast.js';
import { freePort } from '../helpers/ports.js';
import { writeMrSeries } from '../helpers/mr.js';
import { RawPeer, pdata, pdu, commandSet, MR_STORAGE, EXPLICIT_LE } from '../helpers/rawpdu.js';
import { rawDatasetOf } from '../acceptance/malformed.js';
import { storescuAsync } from '../helpers/dcmtk.js';
import { skipWithoutCommands } from '../helpers/tools.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-dimse-path-'));

describe('own DIMSE path: fragmented, interleaved and released C-STOREs', () => {
  let store: Store;
  let metrics: Metrics;
  let server: DicomServer;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    store = openStore(path.join(tmp, 'data'));
    const config = configSchema.parse({ dicom: { port, host: '127.0.0.1' }, storage: { dir: path.join(tmp, 'data'), minFreeMb: 0 } });
    metrics = createMetrics();
    server = await startScp({ config, store, metrics });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores every instance byte for byte and answers each on its context; the release waits for the responses', async () => {
    const s = writeMrSeries(path.join(tmp, 'mr'), { count: 4, rows: 64, columns: 64 });
    // a fifth, real-size instance whose data set comes in one PDU of its own (taken over as the file: no copy)
    const big = writeMrSeries(path.join(tmp, 'mr-big'), { count: 1, rows: 256, columns: 256, studyUid: s.studyUid, seriesUid: s.seriesUid });
    s.files.push(big.files[0]!);
    s.sopUids.push(big.sopUids[0]!);
    const ds = s.files.map((f) => rawDatasetOf(readFileSync(f)));
    const peer = new RawPeer(port);
    await peer.associate({
      maxPdu: 256 * 1024,
      contexts: [
        { id: 1, abstract: MR_STORAGE, ts: [EXPLICIT_LE] },
        { id: 3, abstract: MR_STORAGE, ts: [EXPLICIT_LE] },
      ],
    });
    const cmd = (i: number) => commandSet({ field: 1, messageId: 100 + i, sopClass: MR_STORAGE, sopInstance: s.sopUids[i]!, hasDataset: true });
    const body = (b: Buffer) => b.subarray(6); // a PDV item of a one-PDV PDU
    const bytes: Buffer[] = [];
    // 0: command split over two PDUs, data over many small PDUs (context 1)
    const c0 = cmd(0);
    bytes.push(pdata(1, c0.subarray(0, 20), true, false), pdata(1, c0.subarray(20), true, true));
    for (let o = 0; o < ds[0]!.length; o += 1000) bytes.push(pdata(1, ds[0]!.subarray(o, o + 1000), false, o + 1000 >= ds[0]!.length));
    // 1: context 3, the last data fragment and the next command (2, context 1) in one PDU
    const half = Math.floor(ds[1]!.length / 2);
    bytes.push(pdata(3, cmd(1), true), pdata(3, ds[1]!.subarray(0, half), false, false));
    bytes.push(pdu(4, Buffer.concat([body(pdata(3, ds[1]!.subarray(half), false, true)), body(pdata(1, cmd(2), true))])));
    // 2: data in two PDVs of one PDU; 3: command and whole data set in one PDU (context 3), then release at once
    const third = Math.floor(ds[2]!.length / 3);
    bytes.push(pdu(4, Buffer.concat([body(pdata(1, ds[2]!.subarray(0, third), false, false)), body(pdata(1, ds[2]!.subarray(third), false, true))])));
    bytes.push(pdu(4, Buffer.concat([body(pdata(3, cmd(3), true)), body(pdata(3, ds[3]!, false, true))])));
    bytes.push(pdata(1, cmd(4), true), pdata(1, ds[4]!, false, true));
    bytes.push(pdu(5, Buffer.alloc(4)));
    // one write, re-cut at odd sizes: PDUs split across socket reads
    const all = Buffer.concat(bytes);
    for (let o = 0; o < all.length; o += 7001) peer.send(all.subarray(o, o + 7001));

    const responses: { pc: number; id: number; status: number; sop: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await peer.next([4, 6, 7], 20_000);
      expect(p.type, 'a C-STORE-RSP before anything else').toBe(4);
      const pdvs = parsePdvs(Buffer.concat([Buffer.alloc(6), p.body]));
      if (typeof pdvs === 'string') throw new Error(pdvs);
      const c = parseCommandSet(pdvs[0]!.value);
      if (typeof c === 'string') throw new Error(c);
      const v = pdvs[0]!.value;
      let status = -1;
      let answered = -1;
      for (let o = 0; o + 8 <= v.length; o += 8 + v.readUInt32LE(o + 4)) {
        if (v.readUInt16LE(o + 2) === 0x0900) status = v.readUInt16LE(o + 8);
        if (v.readUInt16LE(o + 2) === 0x0120) answered = v.readUInt16LE(o + 8);
      }
      responses.push({ pc: pdvs[0]!.presentationContextId, id: answered, status, sop: c.sopInstanceUid });
    }
    const release = await peer.next([6, 7], 10_000);
    expect(release.type, 'A-RELEASE-RP').toBe(6);
    responses.sort((a, b) => a.id - b.id);
    expect(responses).toEqual([0, 1, 2, 3, 4].map((i) => ({ pc: [1, 3, 1, 3, 1][i], id: 100 + i, status: 0, sop: s.sopUids[i] })));
    for (let i = 0; i < 5; i++) {
      const row = store.index.getInstance(s.sopUids[i]!);
      expect(row, `index row ${i}`).toBeTruthy();
      const file = readFileSync(row!.path);
      expect(file.subarray(file.length - ds[i]!.length).equals(ds[i]!), `stored dataset ${i}`).toBe(true);
      expect(file.toString('latin1', 128, 132)).toBe('DICM');
      expect(row!.sha256, `index SHA-256 ${i} (computed by the writer thread)`).toBe(createHash('sha256').update(file).digest('hex'));
    }
    peer.destroy();
  }, 60_000);

  it('answers C-ECHO on its own path and refuses a C-STORE whose SOP class differs from its context, keeping the association', async () => {
    const s = writeMrSeries(path.join(tmp, 'mr2'), { count: 1, rows: 16, columns: 16 });
    const ds = rawDatasetOf(readFileSync(s.files[0]!));
    const peer = new RawPeer(port);
    await peer.associate({
      contexts: [
        { id: 1, abstract: '1.2.840.10008.1.1', ts: [IMPLICIT_LE] },
        { id: 3, abstract: MR_STORAGE, ts: [EXPLICIT_LE] },
      ],
    });
    peer.send(pdata(1, commandSet({ field: 0x30, messageId: 9, sopClass: '1.2.840.10008.1.1' }), true));
    const echo = await peer.next([4, 7]);
    expect(echo.type).toBe(4);
    const e = parseCommandSet(echo.body.subarray(6));
    if (typeof e === 'string') throw new Error(e);
    expect(e.field).toBe(0x8030);
    peer.send(pdata(3, commandSet({ field: 1, messageId: 10, sopClass: '1.2.840.10008.5.1.4.1.1.2', sopInstance: s.sopUids[0]!, hasDataset: true }), true));
    peer.send(pdata(3, ds, false, true));
    const r = await peer.next([4, 7]);
    expect(r.type).toBe(4);
    const v = r.body.subarray(6);
    let status = -1;
    let comment = '';
    for (let o = 0; o + 8 <= v.length; o += 8 + v.readUInt32LE(o + 4)) {
      if (v.readUInt16LE(o + 2) === 0x0900) status = v.readUInt16LE(o + 8);
      if (v.readUInt16LE(o + 2) === 0x0902) comment = v.toString('latin1', o + 8, o + 8 + v.readUInt32LE(o + 4));
    }
    expect(status).toBe(0x0122);
    expect(comment).toMatch(/^SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2 sent on a presentation/);
    expect(store.index.getInstance(s.sopUids[0]!)).toBeFalsy();
    peer.send(pdu(5, Buffer.alloc(4)));
    expect((await peer.next([6, 7])).type).toBe(6);
    // after the release, a P-DATA-TF is a protocol violation: aborted
    peer.send(pdata(1, commandSet({ field: 0x30, messageId: 11, sopClass: '1.2.840.10008.1.1' }), true));
    expect((await peer.next([4, 7])).type).toBe(7);
    await peer.closedAt;
  }, 30_000);

  it('an unsupported command aborts with the reason and metric label it had when the library dispatched it', async () => {
    const peer = new RawPeer(port);
    await peer.associate({ contexts: [{ id: 1, abstract: '1.2.840.10008.1.1', ts: [IMPLICIT_LE] }] });
    peer.send(pdata(1, commandSet({ field: 0x0020 /* C-FIND-RQ */, messageId: 1, sopClass: '1.2.840.10008.1.1' }), true));
    expect((await peer.next([4, 7])).type).toBe(7);
    await peer.closedAt;
    expect(metrics.associations.get({ result: 'aborted', reason: 'unsupported DIMSE command NxN' })).toBe(1);
    // the other two tests: 6 instances stored, 1 refused (0122)
    expect(metrics.instancesReceived.get({ outcome: 'new' })).toBe(5);
    expect(metrics.instancesReceived.get({ outcome: 'rejected' })).toBe(1);
  }, 30_000);
});

describe.skipIf(skipWithoutCommands('storescu'))('own DIMSE path: an instance over the in-memory limit', () => {
  it(`goes to its temp file while it arrives (over ${IN_MEMORY_INSTANCE_BYTES / 1048576} MB), is stored byte for byte and recorded with its SHA-256`, async () => {
    const port = await freePort();
    const dir = path.join(tmp, 'data-spill');
    const store = openStore(dir);
    const config = configSchema.parse({ dicom: { port, host: '127.0.0.1' }, storage: { dir, minFreeMb: 0 } });
    const metrics = createMetrics();
    const server = await startScp({ config, store, metrics });
    try {
      // 5800 x 5800 x 16 bit: 67 MB of pixel data, sent by dcmtk's storescu in PDUs of at most 128 KB (its largest)
      const s = writeMrSeries(path.join(tmp, 'mr-huge'), { count: 1, rows: 5800, columns: 5800 });
      const sent = readFileSync(s.files[0]!);
      expect(sent.length).toBeGreaterThan(IN_MEMORY_INSTANCE_BYTES);
      const p = storescuAsync(port, s.files, { extra: ['-xs', '--max-pdu', '131072'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => p.on('close', r));
      expect(code, out).toBe(0);
      const row = store.index.getInstance(s.sopUids[0]!);
      expect(row, 'index row').toBeTruthy();
      const file = readFileSync(row!.path);
      const ds = rawDatasetOf(sent);
      expect(file.subarray(file.length - ds.length).equals(ds), 'stored data set').toBe(true);
      expect(row!.sha256).toBe(createHash('sha256').update(file).digest('hex'));
      expect(metrics.instancesReceived.get({ outcome: 'new' })).toBe(1);
      expect(readdirSync(store.blobs.tmpDir), 'no temp file left').toEqual([]);
    } finally {
      await server.close();
      store.close();
      for (const d of [dir, path.join(tmp, 'mr-huge')]) rmSync(d, { recursive: true, force: true }); // 135 MB
    }
  }, 120_000);
});
