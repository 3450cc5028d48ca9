/**
 * Scanner -> OsteoScreen -> DICOMweb archive + webhook, with real processes: a phantom study is sent with storescu
 * to the service (dist/cli.js), which analyses it and delivers SR, summary image and SEG by STOW-RS to a real
 * Orthanc with the DICOMweb plugin (bearer token checked by a Lua filter), and a signed JSON to an HTTP listener.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { haveDicomWeb, startOrthanc, type OrthancHandle } from '../helpers/orthanc.js';
import { storescu } from '../helpers/dcmtk.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { splitPart10 } from '../../src/dicom/raw-dataset.js';
import { filesUnder } from '../helpers/files.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-e2e-stow-'));
const TOKEN = 'e2e-stow-token-91';
const SECRET = 'e2e-webhook-secret-0001';


describe.skipIf(!haveDicomWeb())('end to end: phantom study -> OsteoScreen -> STOW-RS archive + webhook', () => {
  let orthanc: OrthancHandle;
  let svc: RunningService;
  let hook: http.Server;
  const received: { body: Buffer; signatureOk: boolean }[] = [];

  beforeAll(async () => {
    orthanc = await startOrthanc({
      dicomWeb: true,
      lua: `function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  if method == 'POST' and string.sub(uri, 1, 11) == '/dicom-web/' then return httpHeaders['authorization'] == 'Bearer ${TOKEN}' end
  return true
end`,
    });
    const port = await freePort();
    hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const sig = 'sha256=' + createHmac('sha256', SECRET).update(`${req.headers['x-osteoscreen-timestamp']}.`).update(body).digest('hex');
        received.push({ body, signatureOk: sig === req.headers['x-osteoscreen-signature'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(port, '127.0.0.1', () => r()));
    svc = await startService({
      env: {
        OSTEOSCREEN_OUTPUT_SEG: 'true',
        OSTEOSCREEN_OUTPUT_STOW: JSON.stringify([{ url: `http://127.0.0.1:${orthanc.httpPort}/dicom-web`, auth: 'bearer', token: TOKEN }]),
        OSTEOSCREEN_OUTPUT_WEBHOOKS: JSON.stringify([{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }]),
        OSTEOSCREEN_HTTP_PUBLIC_URL: 'https://osteoscreen.test',
      },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await orthanc?.stop();
    await new Promise((r) => hook?.close(r));
  });

  it('the archive holds exactly the files the service wrote; the webhook gets the result, signed, without patient identifiers', async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9301, count: 1, bone: 'low' });
    const r = storescu(svc.dicomPort, filesUnder(path.join(tmp, 'ph', 'study-0001'), /\.dcm$/));
    expect(r.status, r.out).toBe(0);
    const st = await waitFor(async () => {
      const s = await svc.json<any>(`/api/studies/${m!.studyInstanceUID}`);
      return s.state === 'done' && s.outputs.length >= 4 && s.outputs.every((o: any) => o.state !== 'pending') ? s : undefined;
    }, 'study analysed and delivered', 300_000, 500);
    expect(st.outputs.map((o: any) => [o.kind, o.state]).sort()).toEqual([['sr', 'sent'], ['summary', 'sent'], ['seg', 'sent'], ['webhook', 'sent']].sort());

    // Every DICOM file the service wrote is in the archive, byte for byte.
    const written = filesUnder(path.join(svc.dataDir, 'outputs', m!.studyInstanceUID), /\.dcm$/);
    expect(written).toHaveLength(3);
    for (const f of written) {
      const sop = splitPart10(readFileSync(f)).sopInstanceUid;
      const ids: string[] = await orthanc.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: sop } }) });
      expect(ids, f).toHaveLength(1);
      const stored = Buffer.from(await (await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances/${ids[0]}/file`)).arrayBuffer());
      expect(stored.equals(readFileSync(f)), f).toBe(true);
    }
    expect(await orthanc.rest('/instances')).toHaveLength(3);

    // The shipped placeholder model with model.requireCalibrated (default true): scored, no flag.
    expect(st.flag).toBeNull();
    expect(received).toHaveLength(1);
    expect(received[0]!.signatureOk).toBe(true);
    const body = JSON.parse(received[0]!.body.toString());
    expect(body).toMatchObject({ studyInstanceUid: m!.studyInstanceUID, radscore: st.score, cutoff: st.cutoff, result: st.flag === true ? 'flagged' : st.flag === false ? 'not-flagged' : 'no-flag', link: `https://osteoscreen.test/#study=${m!.studyInstanceUID}` });
    const study = (await svc.json<any[]>('/api/studies')).find((s) => s.studyInstanceUID === m!.studyInstanceUID || s.studyInstanceUid === m!.studyInstanceUID);
    expect(study.patientName).toBeTruthy();
    for (const id of [study.patientName, study.patientId].filter(Boolean)) {
      expect(received[0]!.body.toString()).not.toContain(id);
      expect(svc.logs()).not.toContain(id);
    }
  });
});
