/**
 * Acceptance — hostile and unusual input (issue 14): malformed HTTP request targets and parameters never end
 * the process nor leak internal messages; PDUs longer than the advertised maximum (or a bogus multi-GB length
 * before any association) are aborted after the 6-byte header; truncated datasets are refused and never replace a
 * good copy; multi-valued (ISO 2022) character sets are stored and decoded; YBR_FULL_422 is stored; an unknown
 * DIMSE command is answered; a dataset whose SOP class differs from its presentation context is refused;
 * half-open and idle connections cannot lock out an allowlisted sender; dicom.host is honoured.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { skipWithoutCommands } from '../helpers/tools.js';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/ports.js';
import { echoscu, storescu } from '../helpers/dcmtk.js';
import { sendRawDataset } from '../helpers/rawscu.js';
import { writeMrSeries } from '../helpers/mr.js';
import { RawPeer, pdata, commandSet, dimseStatus, VERIFICATION, MR_STORAGE, CT_STORAGE, EXPLICIT_LE } from '../helpers/rawpdu.js';
import { startLogged, stopAll, waitStudiesTerminal, type LoggedService } from './harness.js';
import { rawDatasetOf, rewrite, setElements, textElement, withDataset, writeYbr422 } from './malformed.js';
import { YAMADA_IR87, YAMADA_IR13_87, HONG_IR149 } from '../helpers/iso2022.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-hostile-'));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Time one /health request (ms). */
async function healthMs(svc: LoggedService): Promise<number> {
  const t0 = performance.now();
  const r = await svc.api('/health', { token: null, signal: AbortSignal.timeout(10_000) });
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`/health ${r.status}`);
  return performance.now() - t0;
}

/** Write `chunk` repeatedly (respecting backpressure) until the peer closes or `limit` bytes were accepted. */
async function streamUntilClosed(peer: RawPeer, chunk: Buffer, limit: number): Promise<number> {
  let sent = 0;
  while (!peer.closed && !peer.socket.destroyed && sent < limit) {
    const ok = peer.socket.write(chunk);
    sent += chunk.length;
    if (!ok) await Promise.race([new Promise((r) => peer.socket.once('drain', r)), peer.closedAt]);
  }
  return sent;
}

/** Send raw bytes on a fresh TCP connection, resolve with everything the server answered until it closed. */
export function rawExchange(port: number, bytes: Buffer | string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.setTimeout(timeoutMs, () => s.destroy(new Error('no answer')));
  });
}

describe.skipIf(skipWithoutCommands('storescu'))('acceptance: hostile input (issue 14)', () => {
  let svc: LoggedService;
  beforeAll(async () => {
    svc = await startLogged('hostile');
  }, 60_000);
  afterAll(async () => {
    await stopAll();
  });

  it('no HTTP request target ends the process; bad parameters are 400 with a clear message, internals never leak', async () => {
    for (const target of ['http://[', 'http://[::1', '//[', '/%', '/api/studies/%', 'http://a:b@[/x', '*']) {
      const ans = await rawExchange(svc.httpPort, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      expect(ans, target).toMatch(/^HTTP\/1\.1 (400|401|404)/);
    }
    expect(svc.proc.exitCode).toBeNull();
    expect((await svc.api('/health', { token: null })).status).toBe(200);
    for (const p of ['/api/studies?limit=abc', '/api/series?limit=abc', '/api/studies?limit=1e3', '/api/studies?limit=-1', '/api/studies?since=yesterday', '/api/studies?flagged=maybe', '/api/studies/%', '/api/studies/%E0%A4%A', '/api/series/%ZZ/complete']) {
      const r = await svc.api(p, { method: p.endsWith('/complete') ? 'POST' : 'GET' });
      const body = await r.json();
      expect(r.status, `${p}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.message, p).toMatch(/limit must be|since must be|flagged must be|percent-encoding/);
      expect(JSON.stringify(body), p).not.toMatch(/datatype mismatch|URI malformed|SQLITE|at .*\.js/i);
    }
    expect(svc.proc.exitCode).toBeNull();
  });
});

describe.skipIf(skipWithoutCommands('storescu'))('acceptance: hostile DICOM peers (issue 14)', () => {
  let svc: LoggedService;
  beforeAll(async () => {
    svc = await startLogged('hostile-dicom');
  }, 60_000);
  afterAll(async () => {
    await stopAll();
  });

  it('a PDU claiming ~4 GB before any association is aborted after its header; 256 MB streamed that way leave /health fast and RSS flat', async () => {
    const rss0 = rssMb(svc.proc.pid!);
    const header = Buffer.from([1, 0, 0xff, 0xff, 0xff, 0xf0]);
    const chunk = Buffer.alloc(1 << 20, 0x41);
    let latencies: number[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        latencies.push(await healthMs(svc));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let total = 0;
    let connections = 0;
    let maxPerConnection = 0;
    let rssMax = rss0;
    const t0 = Date.now();
    while (total < 256 * 1024 * 1024 && Date.now() - t0 < 120_000) {
      const peer = new RawPeer(svc.dicomPort);
      await peer.connected();
      peer.send(header);
      const sent = await streamUntilClosed(peer, chunk, 256 * 1024 * 1024 - total);
      await Promise.race([peer.closedAt, new Promise((r) => setTimeout(r, 5000))]);
      expect(peer.closed, 'the service closed the connection').toBe(true);
      peer.destroy();
      total += sent;
      connections++;
      maxPerConnection = Math.max(maxPerConnection, sent);
      rssMax = Math.max(rssMax, rssMb(svc.proc.pid!));
    }
    polling = false;
    await poll;
    const maxHealth = Math.max(...latencies);
    console.log('[acceptance:hostile] bogus-length stream', JSON.stringify({ offeredMb: Math.round(total / 1048576), connections, maxMbPerConnection: +(maxPerConnection / 1048576).toFixed(1), seconds: (Date.now() - t0) / 1000, healthMaxMs: Math.round(maxHealth), healthPolls: latencies.length, rssBeforeMb: Math.round(rss0), rssMaxMb: Math.round(rssMax) }));
    expect(total).toBeGreaterThanOrEqual(256 * 1024 * 1024);
    expect(maxHealth).toBeLessThan(1000);
    expect(rssMax - rss0).toBeLessThan(64);
    // The service read at most a few chunks of each connection before closing it (what it does read is discarded).
    const read = [...svc.logs().matchAll(/reason="protocol violation: A-ASSOCIATE-RQ claims 4294967280 bytes.*bytesRead=(\d+)/g)].map((x) => Number(x[1]));
    expect(read.length).toBe(connections);
    console.log('[acceptance:hostile] bytes read per bogus connection: max', Math.max(...read), 'total', read.reduce((a, b) => a + b, 0));
    expect(Math.max(...read)).toBeLessThan(1024 * 1024);
    expect(echoscu(svc.dicomPort).status).toBe(0);
  }, 180_000);

  it('a dataset cut 2000 bytes short gets C000 with the reason logged and never replaces the good copy', async () => {
    const s = writeMrSeries(path.join(tmp, 'trunc'), { count: 2, rows: 64, columns: 64 });
    expect(storescu(svc.dicomPort, [s.files[0]!]).status).toBe(0);
    const stored = path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[0]}.dcm`);
    const good = readFileSync(stored);
    for (const [i, file] of s.files.entries()) {
      const full = readFileSync(file);
      const cut = path.join(tmp, 'trunc', `cut-${i}.dcm`);
      writeFileSync(cut, full.subarray(0, full.length - 2000));
      const r = storescu(svc.dicomPort, [cut], { extra: ['-v'] });
      expect(r.out, 'storescu').not.toMatch(/Received Store Response \(Success\)/);
      const raw = await sendRawDataset(svc.dicomPort, rawDatasetOf(readFileSync(cut)), { sopInstanceUid: s.sopUids[i]! });
      expect(raw.status, raw.error).toBe(0xc000);
    }
    expect(readFileSync(stored).equals(good)).toBe(true);
    expect(existsSync(path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[1]}.dcm`))).toBe(false);
    expect(svc.logs()).toMatch(/C-STORE rejected reason="truncated or malformed dataset: element \(7FE0,0010\) declares 8192 bytes, only 6192 remain"/);
  });

  it('multi-valued ISO 2022 character sets (Japanese, Korean) are stored, indexed decoded and processed', async () => {
    const KSC = Buffer.from([0x1b, 0x24, 0x29, 0x43]);
    const cases = [
      { cs: '\\ISO 2022 IR 87', name: YAMADA_IR87, want: 'Yamada^Tarou=山田^太郎=やまだ^たろう' },
      { cs: 'ISO 2022 IR 13\\ISO 2022 IR 87', name: YAMADA_IR13_87, want: 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう' },
      { cs: '\\ISO 2022 IR 149', name: HONG_IR149, want: 'Hong^Gildong=洪^吉洞=홍^길동' },
      { cs: 'ISO 2022 IR 100\\ISO 2022 IR 149', name: HONG_IR149, want: 'Hong^Gildong=洪^吉洞=홍^길동', desc: Buffer.concat([Buffer.from('Wirbels\xe4ule ', 'latin1'), KSC, Buffer.from([0xc8, 0xab])]), wantDesc: 'Wirbelsäule 홍' },
    ];
    const studies: string[] = [];
    for (const [i, c] of cases.entries()) {
      const s = writeMrSeries(path.join(tmp, `cs${i}`), { count: 2, rows: 32, columns: 32 });
      for (const f of s.files) {
        const buf = readFileSync(f);
        const ds = setElements(rawDatasetOf(buf), [
          textElement(0x0008, 0x0005, 'CS', Buffer.from(c.cs, 'latin1')),
          textElement(0x0010, 0x0010, 'PN', c.name),
          ...(c.desc ? [textElement(0x0008, 0x1030, 'LO', c.desc), textElement(0x0008, 0x103e, 'LO', c.desc)] : []),
        ]);
        writeFileSync(f, withDataset(buf, ds));
      }
      const r = storescu(svc.dicomPort, s.files);
      expect(r.status, r.out).toBe(0);
      const d = await svc.json<any>(`/api/studies/${s.studyUid}`);
      expect(d.patientName, c.cs).toBe(c.want);
      if (c.wantDesc) {
        expect(d.description).toBe(c.wantDesc);
        expect(d.series[0].description).toBe(c.wantDesc);
      }
      studies.push(s.studyUid);
    }
    // The pipeline reads them too (T1 only: not assessable for want of a T2, not "unreadable").
    const rows = await waitStudiesTerminal(svc, studies, 120_000);
    for (const r of rows) expect(String(r.reason ?? r.job?.reason)).not.toMatch(/character set|unreadable/i);
    expect(svc.logs()).not.toMatch(/multiple character sets/);
    expect(svc.logs(), 'no patient name in the log').not.toMatch(/Yamada|Tarou|山田|ﾔﾏﾀﾞ|Gildong|洪|홍/);
  }, 180_000);

  it('valid uncompressed YBR_FULL_422 (rows x columns x 2 bytes, single and multi-frame) is stored; a wrong length still is not', async () => {
    const s = writeMrSeries(path.join(tmp, 'ybr'), { count: 1, rows: 16, columns: 16 });
    const files = [1, 3].map((frames) => {
      const f = path.join(tmp, 'ybr', `ybr-${frames}.dcm`);
      writeYbr422(s.files[0]!, f, { frames, sop: `${s.sopUids[0]}.${frames}` });
      return f;
    });
    for (const f of files) {
      const r = storescu(svc.dicomPort, [f], { extra: ['-v'] });
      expect(r.out, f).toMatch(/Received Store Response \(Success\)/);
    }
    const bad = path.join(tmp, 'ybr', 'ybr-bad.dcm');
    rewrite(files[0]!, bad, (d, m) => {
      d.SOPInstanceUID = m.MediaStorageSOPInstanceUID = `${s.sopUids[0]}.9`;
      d._vrMap.PixelData = 'OB';
      d.PixelData = new Uint8Array(16 * 16 * 3 + 10).buffer;
    });
    expect(storescu(svc.dicomPort, [bad], { extra: ['-v'] }).out).not.toMatch(/Received Store Response \(Success\)/);
  });

  it('a P-DATA-TF PDU longer than the advertised maximum (40 KB > 16 KB) aborts the association', async () => {
    const peer = new RawPeer(svc.dicomPort);
    await peer.associate({ maxPdu: 16384, contexts: [{ id: 1, abstract: VERIFICATION }] });
    peer.send(pdata(1, Buffer.alloc(40 * 1024, 0x20), true));
    const p = await peer.next([7], 5000);
    expect(p.type).toBe(7);
    await peer.closedAt;
    expect(svc.logs()).toMatch(/P-DATA-TF PDU of 40966 bytes exceeds the advertised maximum 16384/);
  });

  it('an unknown DIMSE command (0x7777) is answered at once (association aborted), not left hanging', async () => {
    const peer = new RawPeer(svc.dicomPort);
    await peer.associate({ contexts: [{ id: 1, abstract: VERIFICATION }] });
    const t0 = Date.now();
    peer.send(pdata(1, commandSet({ field: 0x7777 }), true));
    const p = await peer.next([4, 7], 5000);
    expect(p.type).toBe(7);
    await peer.closedAt;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(svc.logs()).toMatch(/unsupported DIMSE command 0x7777/);
  });

  it('an MR instance on a presentation context negotiated for CT Image Storage is refused, nothing stored', async () => {
    const s = writeMrSeries(path.join(tmp, 'ctx'), { count: 1, rows: 16, columns: 16 });
    const ds = rawDatasetOf(readFileSync(s.files[0]!));
    for (const requestClass of [MR_STORAGE, CT_STORAGE]) {
      const peer = new RawPeer(svc.dicomPort);
      await peer.associate({ contexts: [{ id: 1, abstract: CT_STORAGE, ts: [EXPLICIT_LE] }] });
      peer.send(pdata(1, commandSet({ field: 0x0001, sopClass: requestClass, sopInstance: s.sopUids[0]!, hasDataset: true }), true));
      for (let i = 0; i < ds.length; i += 8000) peer.send(pdata(1, ds.subarray(i, i + 8000), false, i + 8000 >= ds.length));
      const p = await peer.next([4], 10_000);
      const status = dimseStatus(p.body);
      expect(status, `request SOP class ${requestClass}`).toBeDefined();
      expect(status, `request SOP class ${requestClass}`).not.toBe(0);
      peer.destroy();
    }
    expect(svc.logs()).toMatch(/C-STORE rejected reason="SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.4 sent on a presentation context for 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2"/);
    expect((await svc.json<any[]>('/api/studies')).map((x) => x.studyInstanceUid)).not.toContain(s.studyUid);
  });
});

describe.skipIf(skipWithoutCommands('echoscu'))('acceptance: connection limits and dicom.host (issue 14)', () => {
  let svc: LoggedService;
  beforeAll(async () => {
    svc = await startLogged('hostile-limits', {
      env: { OSTEOSCREEN_DICOM_HOST: '127.0.0.1', OSTEOSCREEN_DICOM_TIMEOUT_SECONDS: '2', OSTEOSCREEN_DICOM_MAX_PENDING_CONNECTIONS: '4', OSTEOSCREEN_DICOM_MAX_ASSOCIATIONS: '2' },
    });
  }, 60_000);
  afterAll(async () => {
    await stopAll();
  });

  it('dicom.host is honoured: bound to 127.0.0.1, a connection to 127.0.0.2 is refused', async () => {
    expect(echoscu(svc.dicomPort).status).toBe(0);
    const err = await new Promise<string>((resolve) => {
      const s = net.connect(svc.dicomPort, '127.0.0.2', () => (s.destroy(), resolve('connected')));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(err).toBe('ECONNREFUSED');
  });

  it('connections that never associate are capped and closed after dicom.timeoutSeconds; an echo still gets through', async () => {
    const peers = Array.from({ length: 10 }, () => new RawPeer(svc.dicomPort));
    await Promise.all(peers.map((p) => p.connected()));
    peers.slice(0, 5).forEach((p) => p.send(Buffer.from([1, 0, 0, 0]))); // half a PDU header
    // More than maxPendingConnections (4): the oldest are closed at once.
    await waitFor(() => peers.filter((p) => p.closed).length >= 6, 'pending cap', 5000, 20);
    expect(echoscu(svc.dicomPort).status).toBe(0);
    const t0 = Date.now();
    await waitFor(() => peers.every((p) => p.closed), 'every half-open connection closed', 10_000, 50);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(svc.logs()).toMatch(/no association within 2 s of connecting/);
    expect(svc.logs()).toMatch(/more than 4 connections without an association/);
  });

  it('idle associations filling every slot do not lock out a real sender: the longest-idle one is closed', async () => {
    const idle = [new RawPeer(svc.dicomPort), new RawPeer(svc.dicomPort)];
    for (const p of idle) await p.associate({ contexts: [{ id: 1, abstract: VERIFICATION }] });
    // Both slots (maxAssociations 2) are held: a newcomer is admitted once one of them has been idle long enough.
    const t0 = Date.now();
    await waitFor(() => echoscu(svc.dicomPort).status === 0, 'echo while the slots are held', 10_000, 200);
    expect(Date.now() - t0).toBeLessThan(5000);
    await waitFor(() => idle.some((p) => p.closed), 'an idle association closed', 5000, 20);
    expect(svc.logs()).toMatch(/all 2 associations taken: closed the one idle for/);
    idle.forEach((p) => p.destroy());
  });
});
