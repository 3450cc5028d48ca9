/**
 * DICOMweb STOW-RS delivery against a real Orthanc with Debian's orthanc-dicomweb plugin, through the outbox and
 * the Deliverer (real SQLite, a fake clock only for the back-off). A Lua IncomingHttpRequestFilter plays the
 * receiver's bearer-token check and logs each STOW-RS POST ("Lua says: STOW POST"), so the tests count requests.
 */
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics } from '../../src/common/metrics.js';
import { Deliverer } from '../../src/pipeline/deliver.js';
import { sendStow, stowKey } from '../../src/output/stow.js';
import type { Store } from '../../src/store/index.js';
import { haveDicomWeb, startOrthanc, type OrthancHandle } from '../helpers/orthanc.js';
import { memoryStore, type FakeClock } from '../helpers/memory-store.js';
import { writeStudyOutputs, type OutputFile } from './files.js';
import { makeTestCa } from '../helpers/test-ca.js';

const TOKEN = 'good-token-4f1c';
const dir = mkdtempSync(join(tmpdir(), 'stow-test-'));
const HOUR = 3_600_000;
const LUA = `
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  if method == 'POST' and string.sub(uri, 1, 11) == '/dicom-web/' then
    print('STOW POST')
    return httpHeaders['authorization'] == 'Bearer ${TOKEN}'
  end
  return true
end
`;

let orthanc: OrthancHandle;
let store: Store & { clock: FakeClock };
let outputs: OutputFile[];

const stowUrl = (o: OrthancHandle) => `http://127.0.0.1:${o.httpPort}/dicom-web`;
const posts = (o: OrthancHandle) => (o.output().match(/Lua says: STOW POST/g) ?? []).length;
const start = (httpPort?: number) => startOrthanc({ dicomWeb: true, lua: LUA, httpPort });

function deliverer(stow: Record<string, unknown>[]): Deliverer {
  const config = configSchema.parse({ output: { stow, retryBaseSeconds: 10, maxAgeHours: 72 } });
  return new Deliverer(config, store, createMetrics(), { now: store.clock.now });
}

function queue(files: OutputFile[], destination: string): number[] {
  for (const f of files) store.outbox.add({ studyUid: '1.2.3', jobId: 1, kind: f.kind, destination, path: f.path, sopUid: f.sopUid });
  return files.map((f) => store.outbox.ofStudy('1.2.3').find((r) => r.sop_uid === f.sopUid && r.destination === destination)!.id);
}

/** The file Orthanc stores for a SOP Instance UID, as its REST API returns it. */
async function storedFile(o: OrthancHandle, sopUid: string): Promise<Buffer> {
  const found: string[] = await o.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: sopUid } }) });
  expect(found, `Orthanc holds ${sopUid}`).toHaveLength(1);
  return Buffer.from(await (await fetch(`http://127.0.0.1:${o.httpPort}/instances/${found[0]}/file`)).arrayBuffer());
}

describe.skipIf(!haveDicomWeb())('STOW-RS to a real Orthanc (DICOMweb plugin)', () => {
  beforeAll(async () => {
    orthanc = await start();
    outputs = writeStudyOutputs(dir, 1);
  });
  afterAll(async () => {
    await orthanc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    store = memoryStore();
  });
  afterEach(() => store.close());

  it('stores SR, summary image and SEG with ONE request; Orthanc holds exactly the bytes written', async () => {
    const d = deliverer([{ url: stowUrl(orthanc), auth: 'bearer', token: TOKEN }]);
    const before = posts(orthanc);
    const ids = queue(outputs, stowKey({ url: stowUrl(orthanc) }));
    expect(await d.tick()).toBe(3);
    expect(ids.map((id) => store.outbox.get(id)), JSON.stringify(ids.map((id) => store.outbox.get(id)?.last_error))).toMatchObject([{ state: 'sent' }, { state: 'sent' }, { state: 'sent' }]);
    await expect.poll(() => posts(orthanc)).toBe(before + 1);
    for (const f of outputs) expect((await storedFile(orthanc, f.sopUid)).equals(readFileSync(f.path)), f.kind).toBe(true);
    // Sent rows are never sent again.
    store.clock.advance(HOUR);
    expect(await d.tick()).toBe(0);
    expect(posts(orthanc)).toBe(before + 1);
  });

  it('receiver down, then up on the same address: retried with the back-off, delivered exactly once', async () => {
    const port = orthanc.httpPort;
    const files = writeStudyOutputs(dir, 2);
    const d = deliverer([{ url: stowUrl(orthanc), auth: 'bearer', token: TOKEN }]);
    await orthanc.stop();
    const ids = queue(files, stowKey({ url: stowUrl(orthanc) }));
    expect(await d.tick()).toBe(3);
    for (const id of ids) expect(store.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 1, last_error: expect.stringContaining('ECONNREFUSED') });
    orthanc = await start(port);
    // Not due yet (10 s back-off): nothing is sent.
    expect(await d.tick()).toBe(0);
    expect(posts(orthanc)).toBe(0);
    store.clock.advance(10_000);
    expect(await d.tick()).toBe(3);
    for (const id of ids) expect(store.outbox.get(id)).toMatchObject({ state: 'sent', attempts: 2 });
    for (let i = 0; i < 5; i++) {
      store.clock.advance(HOUR);
      expect(await d.tick()).toBe(0);
    }
    await expect.poll(() => posts(orthanc)).toBe(1);
    expect(await orthanc.rest('/instances')).toHaveLength(3);
    for (const f of files) expect((await storedFile(orthanc, f.sopUid)).equals(readFileSync(f.path))).toBe(true);
  });

  it('a wrong bearer token is refused (HTTP 403): dead-lettered at once with the receiver’s status, never retried', async () => {
    const d = deliverer([{ url: stowUrl(orthanc), auth: 'bearer', token: 'expired-token' }]);
    const before = posts(orthanc);
    const ids = queue(outputs, stowKey({ url: stowUrl(orthanc) }));
    await d.tick();
    for (const id of ids) expect(store.outbox.get(id)).toMatchObject({ state: 'dead-letter', attempts: 1, last_error: expect.stringMatching(/^HTTP 403 Forbidden/) });
    store.clock.advance(100 * HOUR);
    expect(await d.tick()).toBe(0);
    await expect.poll(() => posts(orthanc)).toBe(before + 1);
  });

  it('409 with FailedSOPSequence: each refused instance is permanent with its FailureReason; an XML answer reads like JSON', async () => {
    const dest = configSchema.parse({ output: { stow: [{ url: stowUrl(orthanc), auth: 'bearer', token: TOKEN }] } }).output.stow[0]!;
    // Orthanc refuses instances of another study than the one in the URL: a real 409 Conflict.
    const refused = await sendStow(dest, outputs, { endpoint: `${stowUrl(orthanc)}/studies/1.2.999` });
    for (const r of refused) expect(r).toMatchObject({ ok: false, retryable: false, status: 0x0110, error: 'HTTP 409 Conflict: refused, FailureReason 0110H (processing failure)' });
    const xml = await sendStow(dest, outputs, { accept: 'application/dicom+xml' });
    expect(xml.map((r) => r.ok), JSON.stringify(xml)).toEqual([true, true, true]);
  });
});

/**
 * https in front of Orthanc: Debian's Orthanc 1.10 crashes (segfault) on its own SslEnabled with OpenSSL 3, so a
 * node:https reverse proxy with a certificate from a test CA terminates TLS, as nginx would at a site.
 */
function tlsProxy(target: number, key: Buffer, cert: Buffer): Promise<{ port: number; close: () => Promise<void> }> {
  const server = https.createServer({ key, cert }, (req, res) => {
    const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.statusMessage, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) })));
}

describe.skipIf(!haveDicomWeb())('STOW-RS with basic auth and https with a CA of our own', () => {
  let secured: OrthancHandle;
  let proxy: { port: number; close: () => Promise<void> };
  const caDir = mkdtempSync(join(tmpdir(), 'stow-tls-'));
  beforeAll(async () => {
    // A CA and a server certificate for 127.0.0.1 signed by it (openssl), Orthanc serving https with it.
    const ca = makeTestCa(caDir);
    secured = await startOrthanc({ dicomWeb: true, users: { stow: 'right-password' } });
    proxy = await tlsProxy(secured.httpPort, ca.key, ca.cert);
    outputs = writeStudyOutputs(dir, 4);
  });
  afterAll(async () => {
    await proxy?.close();
    await secured?.stop();
    rmSync(caDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    store = memoryStore();
  });
  afterEach(() => store.close());

  it('right credentials and the configured CA: stored; wrong password: HTTP 401, dead-lettered at once; no CA: a TLS error, retried', async () => {
    const url = `https://127.0.0.1:${proxy.port}/dicom-web`;
    const key = stowKey({ url });
    const base = { url, auth: 'basic', user: 'stow' };
    const ok = queue(outputs, key);
    await deliverer([{ ...base, password: 'right-password', caFile: join(caDir, 'ca.pem') }]).tick();
    expect(ok.map((id) => store.outbox.get(id)!.state), store.outbox.get(ok[0]!)!.last_error ?? '').toEqual(['sent', 'sent', 'sent']);
    expect(await secured.rest('/instances')).toHaveLength(3);

    store.close();
    store = memoryStore();
    const bad = queue(outputs, key);
    await deliverer([{ ...base, password: 'wrong', caFile: join(caDir, 'ca.pem') }]).tick();
    for (const id of bad) expect(store.outbox.get(id)).toMatchObject({ state: 'dead-letter', last_error: expect.stringMatching(/^HTTP 401 Unauthorized/) });

    store.close();
    store = memoryStore();
    const untrusted = queue(outputs, key);
    await deliverer([{ ...base, password: 'right-password' }]).tick();
    for (const id of untrusted) expect(store.outbox.get(id)).toMatchObject({ state: 'pending', last_error: expect.stringMatching(/certificate/i) });
  });
});
