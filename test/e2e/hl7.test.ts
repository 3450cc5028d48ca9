/**
 * Scanner -> OsteoScreen -> HL7 v2 receivers, with real processes: a phantom study is sent with storescu to the
 * service (dist/cli.js), which analyses it and sends an ORU^R01 over MLLP to two listeners of the test
 * (test/helpers/mllp-receiver.ts: parsed by @medplum/core, malformed messages refused): one is down at first and
 * comes up (delivered exactly once), the other refuses with AR (retried, then dead-lettered with its reason when
 * output.maxAgeHours runs out). The page's per-destination state and the logs are checked too.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { storescu } from '../helpers/dcmtk.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { MllpReceiver, unescape } from '../helpers/mllp-receiver.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { hl7Key } from '../../src/output/hl7.js';
import { parseDicom } from '../../src/dicom/header.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-e2e-hl7-'));

describe('end to end: phantom study -> OsteoScreen -> HL7 v2 over MLLP', () => {
  let svc: RunningService;
  let late: MllpReceiver;
  let refusing: MllpReceiver;

  beforeAll(async () => {
    late = new MllpReceiver(await freePort()); // not started yet: connection refused
    refusing = new MllpReceiver(await freePort());
    refusing.answer = () => ({ kind: 'refuse', code: 'AR', text: 'Order not found for this filler order number' });
    await refusing.start();
    svc = await startService({
      env: {
        OSTEOSCREEN_OUTPUT_HL7: JSON.stringify([
          { host: '127.0.0.1', port: late.port, receivingApplication: 'EHR', receivingFacility: 'HOSP', timeoutSeconds: 5 },
          { host: '127.0.0.1', port: refusing.port, timeoutSeconds: 5 },
        ]),
        OSTEOSCREEN_IDENTITY_DEFAULT_ISSUER: 'HOSP', // the phantom has no IssuerOfPatientID
        OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: '1',
        OSTEOSCREEN_OUTPUT_MAX_AGE_HOURS: '0.005', // 18 s
      },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await late?.stop();
    await refusing?.stop();
  });

  it('down then up: delivered exactly once; AR: dead-lettered with the receiver’s reason; no patient identifier in the logs', async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9419, count: 1, bone: 'low' });
    const uid = m!.studyInstanceUID;
    const dir = path.join(tmp, 'ph', 'study-0001');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.dcm')).map((f) => path.join(dir, f));
    const r = storescu(svc.dicomPort, files);
    expect(r.status, r.out).toBe(0);
    const lateKey = hl7Key({ host: '127.0.0.1', port: late.port });
    const refusingKey = hl7Key({ host: '127.0.0.1', port: refusing.port });
    const rowOf = (st: any, key: string) => st.outputs.find((o: any) => o.kind === 'hl7' && o.destination === key);

    // The first attempt to the receiver that is down fails; then it comes up.
    await waitFor(async () => rowOf(await svc.json<any>(`/api/studies/${uid}`), lateKey)?.lastError?.includes('ECONNREFUSED'), 'a refused connection recorded', 300_000, 200);
    await late.start();
    const st = await waitFor(async () => {
      const s = await svc.json<any>(`/api/studies/${uid}`);
      return rowOf(s, lateKey)?.state === 'sent' && rowOf(s, refusingKey)?.state === 'dead-letter' ? s : undefined;
    }, 'sent to one receiver, dead-lettered at the other', 120_000, 300);

    expect(late.malformed).toEqual([]);
    expect(late.received).toHaveLength(1);
    expect(late.distinct).toEqual([rowOf(st, lateKey).sopInstanceUid]);
    const msg = late.received[0]!.msg;
    const study = (await svc.json<any[]>('/api/studies')).find((s) => s.studyInstanceUID === uid || s.studyInstanceUid === uid);
    expect(msg.getSegment('PID')!.getComponent(3, 1)).toBe(study.patientId);
    expect(msg.getSegment('PID')!.getComponent(3, 4)).toBe('HOSP');
    expect(msg.getSegment('OBR')!.getField(3).toString()).toBe(parseDicom(readFileSync(files[0]!)).dataset.AccessionNumber);
    expect(msg.getSegment('MSH')!.getField(5).toString()).toBe('EHR');
    const obx = msg.getAllSegments('OBX').map((o) => [o.getComponent(3, 1), unescape(o.getField(5).toString())]);
    // The shipped placeholder model with model.requireCalibrated (default true): scored, no flag.
    expect(st.flag).toBeNull();
    expect(Number(obx.find((o) => o[0] === 'OS-RADSCORE')?.[1])).toBeCloseTo(st.score, 2);
    expect(obx.find((o) => o[0] === '121071')?.[1]).toMatch(/^OS-NOT-INTERP\^/);
    expect(obx.filter((o) => o[0] === '18782-3').map((o) => o[1])).toContain('UNVERIFIED — research/screening use');
    expect(late.received[0]!.raw).not.toContain(study.patientName.split('^')[0]);

    const refused = rowOf(st, refusingKey);
    // Dead-lettered by the deliverer at the first attempt past the maximum age, or by the housekeeping sweep (which adds why).
    expect(refused.lastError).toMatch(/^HL7 AR \(application reject\): Order not found for this filler order number( \(expired after 0\.005 h\))?$/);
    expect(refused.attempts).toBeGreaterThan(1);
    expect(refusing.connections).toBe(refused.attempts);

    const dests = await svc.json<any[]>('/api/outbox/destinations');
    expect(dests.filter((d) => d.kind === 'hl7').map((d) => [d.destination, d.state, d.sent, d.deadLetter])).toEqual([
      [lateKey, 'ok', 1, 0],
      [refusingKey, 'dead-letters', 0, 1],
    ]);

    for (const id of [study.patientName, study.patientId].filter(Boolean)) expect(svc.logs()).not.toContain(id);
    expect(svc.logs()).not.toContain('MSH|');
  });
});
