/**
 * HL7 v2 ORU^R01 over MLLP through the real processor hand-off (createProcessor queues the messages; the analysis
 * is replaced by a result), the outbox (real SQLite, fake clock for the back-off and the maximum age) and the
 * Deliverer, to a real MLLP listener on loopback that parses each message with an independent parser
 * (@medplum/core) and refuses malformed ones (test/helpers/mllp-receiver.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/common/metrics.js';
import { setLogSink } from '../../src/common/log.js';
import { Deliverer } from '../../src/pipeline/deliver.js';
import { createProcessor } from '../../src/pipeline/process.js';
import type { AnalyseResult } from '../../src/pipeline/analyse.js';
import { destinationStates } from '../../src/admin/destinations.js';
import { escapeHl7, hl7Key, interpretAck, readAck, unescapeHl7 } from '../../src/output/hl7.js';
import { MllpClient, mllpFrame, readFrames } from '../../src/output/mllp.js';
import { DISCLAIMER_TEXT, UNVERIFIED_TEXT } from '../../src/report/header.js';
import { writePart10 } from '../../src/dicom/write.js';
import type { Store } from '../../src/store/index.js';
import { memoryStore, receive, type FakeClock } from '../helpers/memory-store.js';
import { freePort } from '../helpers/ports.js';
import { MllpReceiver, problemsOf, unescape } from '../helpers/mllp-receiver.js';
import { makeTestCa } from '../helpers/test-ca.js';

const HOUR = 3_600_000;
const STUDY = '1.2.826.0.1.3680043.8.498.1919';
const ISSUER = '1.2.826.0.1.3680043.8.498.1';
const PATIENT = { PatientName: 'Phantom^Müller', PatientID: 'PID-1919-X', PatientBirthDate: '19600101', IssuerOfPatientID: ISSUER };

let store: Store & { clock: FakeClock };
let receiver: MllpReceiver;
let logs: string[];
const dir = mkdtempSync(join(tmpdir(), 'hl7-test-'));

function configFor(hl7: Record<string, unknown>[], output: Record<string, unknown> = {}): Config {
  return configSchema.parse({ output: { hl7, retryBaseSeconds: 10, ...output } });
}

type Outcome = { flag: boolean | null; reason?: string; calibrated?: boolean };

let instances = 0;

/** Record the study with a real instance file (patient identity is read from it), run the processor on a job. */
async function finishStudy(config: Config, outcome: Outcome, study = STUDY, dataset: Record<string, unknown> = PATIENT): Promise<number> {
  const sop = `${study}.1.${++instances}`;
  const file = writePart10({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.4', SOPInstanceUID: sop, StudyInstanceUID: study, AccessionNumber: 'ACC-2026-19', ...dataset }, join(dir, `${sop}.dcm`));
  receive(store, study, `${study}.1`, { accessionNumber: 'ACC-2026-19', studyDate: '20260301', studyTime: '101530.25' } as never, file);
  const job = store.index.enqueueJob(study, 'test');
  const model = { name: 'paper-t1t2', version: '1.1.0', hash: 'abc123def4567890' };
  const na = outcome.reason !== undefined;
  const calibrated = outcome.calibrated ?? true;
  const result: AnalyseResult = {
    state: na ? 'not-assessable' : 'done',
    reason: na ? outcome.reason! : null,
    selection: {} as AnalyseResult['selection'],
    segmentation: null,
    features: null,
    score: na
      ? { notAssessable: outcome.reason!, missing: [], model }
      : {
          score: outcome.flag ? 0.61 : 0.4,
          cutoff: 0.542,
          flag: outcome.flag,
          calibrated,
          noFlag: outcome.flag === null ? [{ kind: 'uncalibrated', message: 'the model is not calibrated for this site' }] : [],
          normalisation: 'calibration',
          intercept: 0.5,
          terms: [],
          model,
        },
    scanner: null,
    modelChoice: null,
    reportFiles: [],
    timings: {},
  } as AnalyseResult;
  const processor = createProcessor({ config, store, metrics: createMetrics(), analyse: async () => result, version: '9.9.9' });
  await processor(job);
  return job.id;
}

const deliverer = (config: Config) => new Deliverer(config, store, createMetrics(), { now: store.clock.now });
const hl7Rows = () => store.outbox.list().filter((r) => r.kind === 'hl7').reverse();
const dest = (extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: receiver.port, receivingApplication: 'EHR', receivingFacility: 'HOSP', timeoutSeconds: 2, ...extra });

beforeEach(async () => {
  store = memoryStore();
  receiver = new MllpReceiver(await freePort());
  await receiver.start();
  logs = [];
  setLogSink((line) => logs.push(line));
});
afterEach(async () => {
  setLogSink((line) => process.stderr.write(line + '\n'));
  await receiver.stop();
  store.close();
});

describe('HL7 v2 ORU^R01 over MLLP', () => {
  it('a finished study is delivered once; the receiver reads every field; no name or birth date is sent', async () => {
    const config = configFor([dest({ sendingFacility: 'RADIOLOGY' })]);
    await finishStudy(config, { flag: true });
    const [row] = hl7Rows();
    expect(row).toMatchObject({ state: 'pending', destination: `hl7:127.0.0.1:${receiver.port}`, kind: 'hl7' });
    await deliverer(config).tick();
    expect(hl7Rows()).toMatchObject([{ state: 'sent', attempts: 1 }]);
    expect(receiver.malformed).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const { msg, raw } = receiver.received[0]!;
    expect(raw).toBe(readFileSync(row!.path, 'utf8'));

    const msh = msg.getSegment('MSH')!;
    expect([3, 4, 5, 6].map((f) => msh.getField(f).toString())).toEqual(['OSTEOSCREEN', 'RADIOLOGY', 'EHR', 'HOSP']);
    expect(msh.getField(7).toString()).toMatch(/^\d{14}\+0000$/); // when it was queued, UTC
    expect(msh.getField(9).toString()).toBe('ORU^R01^ORU_R01');
    expect(msh.getField(10).toString()).toBe(row!.sop_uid);
    expect(msh.getField(10).toString()).toMatch(/^OS[0-9A-F]{18}$/);
    expect([11, 12, 18].map((f) => msh.getField(f).toString())).toEqual(['P', '2.5.1', 'UNICODE UTF-8']);

    const pid = msg.getSegment('PID')!;
    expect(pid.getComponent(3, 1)).toBe('PID-1919-X');
    expect(pid.getComponent(3, 4)).toBe(`&${ISSUER}&ISO`);
    expect(pid.getComponent(3, 5)).toBe('MR');
    expect(raw.split('\r')[1]).toBe(`PID|1||PID-1919-X^^^&${ISSUER}&ISO^MR`); // nothing after PID-3: no name (PID-5), no birth date
    expect(raw).not.toMatch(/Phantom|Müller|19600101/);

    const obr = msg.getSegment('OBR')!;
    expect(obr.getField(3).toString()).toBe('ACC-2026-19');
    expect(obr.getField(4).toString()).toBe('24531-6^MR Lumbar spine WO contrast^LN');
    expect(obr.getField(7).toString()).toBe('20260301101530');
    expect(obr.getField(22).toString()).toBe(msh.getField(7).toString());
    expect(obr.getField(25).toString()).toBe('P');

    const obx = msg.getAllSegments('OBX').map((o) => [o.getField(2).toString(), o.getComponent(3, 1), o.getComponent(3, 3), unescape(o.getField(5).toString()), o.getField(8).toString()]);
    const text = obx.filter((o) => o[0] === 'TX');
    expect(obx.filter((o) => o[0] !== 'TX')).toEqual([
      ['NM', 'OS-RADSCORE', '99OSTEO', '0.610', ''],
      ['NM', 'OS-CUTOFF', '99OSTEO', '0.542', ''],
      ['CWE', '121071', 'DCM', 'OS-ABN-SUSP^Abnormal bone mass suspected^99OSTEO', 'A'],
      ['ST', '111001', 'DCM', 'paper-t1t2', ''],
      ['ST', '111003', 'DCM', '1.1.0', ''],
      ['ST', 'OS-MODEL-HASH', '99OSTEO', 'abc123def4567890', ''],
      ['CWE', 'OS-CALIB', '99OSTEO', 'OS-CALIBRATED^Calibrated for this site^99OSTEO', ''],
      ['CWE', 'OS-VERIF', '99OSTEO', 'OS-UNVERIFIED^UNVERIFIED — screening support, not a diagnosis^99OSTEO', ''],
    ]);
    expect(text.map((t) => t[1])).toEqual(Array(text.length).fill('18782-3'));
    expect(text.map((t) => t[3])).toEqual([
      'Abnormal bone mass suspected. Radscore 0.610 (cut-off: abnormal if > 0.542).',
      'Produced by OsteoScreen 9.9.9, model paper-t1t2 1.1.0 (hash abc123def456, calibrated).',
      UNVERIFIED_TEXT,
      DISCLAIMER_TEXT,
    ]);
    for (const o of msg.getAllSegments('OBX')) expect(o.getField(11).toString()).toBe('P');

    // Sent is final.
    store.clock.advance(HOUR);
    expect(await deliverer(config).tick()).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(logs.join('\n')).not.toContain(PATIENT.PatientID);
  });

  it('not assessable (the reason escaped and read back), no flag with an uncalibrated model; onlyFlagged receivers skip them', async () => {
    const other = new MllpReceiver(await freePort());
    await other.start();
    try {
      const config = configFor([dest(), { host: '127.0.0.1', port: other.port, onlyFlagged: true }]);
      const reason = 'no sagittal T1 | T2^only & more ~ see \\ notes';
      await finishStudy(config, { flag: null, reason }, `${STUDY}.91`);
      await finishStudy(config, { flag: null, calibrated: false }, `${STUDY}.92`);
      expect(hl7Rows().map((r) => r.destination)).toEqual([hl7Key({ host: '127.0.0.1', port: receiver.port }), hl7Key({ host: '127.0.0.1', port: receiver.port })]);
      await deliverer(config).tick();
      expect(receiver.malformed).toEqual([]);
      const [na, nf] = receiver.received.map((r) => r.msg.getAllSegments('OBX').map((o) => [o.getComponent(3, 1), unescape(o.getField(5).toString()), o.getField(8).toString()]));
      expect(na!.find((o) => o[0] === 'OS-NA-REASON')?.[1]).toBe(reason);
      expect(na!.find((o) => o[0] === '121071')).toEqual(['121071', 'OS-NOT-ASSESS^Not assessable^99OSTEO', '']);
      expect(na!.find((o) => o[0] === 'OS-CALIB')?.[1]).toBe('OS-CALIB-NA^Not applicable (not assessable)^99OSTEO');
      expect(na!.some((o) => o[0] === 'OS-RADSCORE')).toBe(false);
      expect(na!.filter((o) => o[0] === '18782-3')[0]![1]).toBe(`Not assessable: ${reason}`);
      expect(nf!.find((o) => o[0] === '121071')?.[1]).toBe('OS-NOT-INTERP^Radscore not interpretable until calibrated for this site^99OSTEO');
      expect(nf!.find((o) => o[0] === 'OS-NOFLAG-REASON')?.[1]).toBe('the model is not calibrated for this site');
      expect(nf!.find((o) => o[0] === 'OS-CALIB')?.[1]).toBe('OS-UNCALIBRATED^Not calibrated for this site^99OSTEO');
      expect(nf!.filter((o) => o[0] === '18782-3').map((o) => o[1])).toContain('Warning: the model is not calibrated for this site; the radscore and cut-off come from the published study and may not transfer.');
      expect(other.received).toHaveLength(0);
      await finishStudy(config, { flag: true }, `${STUDY}.93`);
      await deliverer(config).tick();
      expect(other.received).toHaveLength(1);
      expect(other.received[0]!.msg.getSegment('MSH')!.getField(5).toString()).toBe('');
    } finally {
      await other.stop();
    }
  });

  it('receiver down, then not answering, then up: retried with the back-off, same bytes and MSH-10, delivered exactly once', async () => {
    const config = configFor([dest({ timeoutSeconds: 1 })]);
    const d = deliverer(config);
    await receiver.stop();
    await finishStudy(config, { flag: true });
    await d.tick();
    expect(hl7Rows()).toMatchObject([{ state: 'pending', attempts: 1, last_error: expect.stringMatching(/^MLLP 127\.0\.0\.1:\d+: .*ECONNREFUSED/) }]);
    await receiver.start();
    receiver.answer = () => ({ kind: 'silent' }); // takes the message, the ACK never comes
    expect(await d.tick()).toBe(0); // not due for 10 s
    store.clock.advance(10_000);
    await d.tick();
    expect(hl7Rows()).toMatchObject([{ state: 'pending', attempts: 2, last_error: expect.stringMatching(/no answer within 1 s$/) }]);
    receiver.answer = () => ({ kind: 'ack' });
    store.clock.advance(20_000);
    await d.tick();
    expect(hl7Rows()).toMatchObject([{ state: 'sent', attempts: 3 }]);
    store.clock.advance(5 * HOUR);
    expect(await d.tick()).toBe(0); // sent is final
    const file = readFileSync(hl7Rows()[0]!.path, 'utf8');
    expect(receiver.received.map((r) => r.raw === file)).toEqual([true, true]);
    expect(receiver.distinct).toEqual([hl7Rows()[0]!.sop_uid]); // the repeat carries the same control id
  });

  it('AE / AR: retried, then dead-lettered when output.maxAgeHours runs out, with the receiver’s reason (patient id masked)', async () => {
    const config = configFor([dest()], { maxAgeHours: 1 });
    receiver.answer = () => ({ kind: 'refuse', code: 'AR', text: `Unknown patient ${PATIENT.PatientID} in domain HOSP` });
    const d = deliverer(config);
    await finishStudy(config, { flag: true });
    await d.tick();
    const reason = 'HL7 AR (application reject): Unknown patient <patient id> in domain HOSP';
    expect(hl7Rows()).toMatchObject([{ state: 'pending', attempts: 1, last_error: reason }]);
    receiver.answer = () => ({ kind: 'refuse', code: 'AE', text: 'database busy' });
    store.clock.advance(10_000);
    await d.tick();
    expect(hl7Rows()).toMatchObject([{ state: 'pending', attempts: 2, last_error: 'HL7 AE (application error): database busy' }]);
    receiver.answer = () => ({ kind: 'refuse', code: 'AR', text: `Unknown patient ${PATIENT.PatientID} in domain HOSP` });
    store.clock.advance(HOUR);
    await d.tick();
    expect(hl7Rows()).toMatchObject([{ state: 'dead-letter', attempts: 3, last_error: reason }]);
    store.clock.advance(100 * HOUR);
    expect(await d.tick()).toBe(0);
    expect(receiver.connections).toBe(3);
    const page = destinationStates(config, store).find((s) => s.kind === 'hl7');
    expect(page).toMatchObject({ destination: hl7Key(dest()), state: 'dead-letters', deadLetter: 1, lastError: reason });
    expect(logs.some((l) => l.includes('output dead-lettered') && l.includes(hl7Key(dest())))).toBe(true);
    expect(logs.join('\n')).not.toContain(PATIENT.PatientID);
    // The admin's retry sends it again, and the receiver now takes it.
    receiver.answer = () => ({ kind: 'ack' });
    expect(store.outbox.retryDeadLetters()).toBe(1);
    await d.tick();
    expect(hl7Rows()).toMatchObject([{ state: 'sent' }]);
  });

  it('a hostile or broken receiver: garbage, half a frame, a close, an endless answer, an ACK for another message — each retried', async () => {
    const config = configFor([dest({ timeoutSeconds: 1 })]);
    const cases: [string, () => void, RegExp][] = [
      ['garbage', () => (receiver.answer = () => ({ kind: 'garbage' })), /^malformed ACK: the answer does not start with an MSH segment$/],
      ['half', () => (receiver.answer = () => ({ kind: 'half' })), /the answer was not complete within 1 s$/],
      ['close', () => (receiver.answer = () => ({ kind: 'close' })), /closed the connection without an answer$/],
      ['endless', () => (receiver.answer = () => ({ kind: 'endless' })), /the answer exceeds 65536 bytes$/],
      ['wrong-id', () => (receiver.answer = () => ({ kind: 'wrong-id' })), /^ACK AA for another message \(the ACK names message SOMETHING-ELSE, not OS[0-9A-F]{18}\)$/],
    ];
    await finishStudy(config, { flag: true });
    const d = deliverer(config);
    for (const [name, set, error] of cases) {
      set();
      store.clock.t = store.outbox.get(hl7Rows()[0]!.id)!.next_attempt_at;
      await d.tick();
      expect(hl7Rows()[0], name).toMatchObject({ state: 'pending', last_error: expect.stringMatching(error) });
    }
    receiver.answer = () => ({ kind: 'ack' });
    store.clock.t = store.outbox.get(hl7Rows()[0]!.id)!.next_attempt_at;
    await d.tick();
    expect(hl7Rows()[0]).toMatchObject({ state: 'sent', attempts: cases.length + 1 });
  });

  it('a receiver that does not answer costs one time limit per pass: the other messages wait for the next pass', async () => {
    const config = configFor([dest({ timeoutSeconds: 1 })]);
    await finishStudy(config, { flag: true }, `${STUDY}.71`);
    await finishStudy(config, { flag: false }, `${STUDY}.72`);
    receiver.answer = () => ({ kind: 'silent' });
    await deliverer(config).tick();
    expect(hl7Rows().map((r) => [r.state, r.attempts, r.last_error])).toEqual([
      ['pending', 1, expect.stringMatching(/: no answer within 1 s$/)],
      ['pending', 1, expect.stringMatching(/: no answer within 1 s$/)],
    ]);
    expect(receiver.received).toHaveLength(1);
    receiver.answer = () => ({ kind: 'ack' });
    store.clock.advance(10_000);
    await deliverer(config).tick();
    expect(hl7Rows().map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(receiver.distinct).toHaveLength(2);
    expect(receiver.connections).toBe(2);
  });

  it('a study without patient identity is dead-lettered at once with the reason; the receiver is not contacted', async () => {
    const config = configFor([dest()]);
    const { IssuerOfPatientID: _, ...noIssuer } = PATIENT;
    await finishStudy(config, { flag: true }, STUDY, noIssuer);
    await deliverer(config).tick();
    expect(hl7Rows()).toMatchObject([{ state: 'dead-letter', attempts: 1, last_error: expect.stringMatching(/^no assigning authority for the patient identifier: IssuerOfPatientID \(0010,0021\)/) }]);
    expect(receiver.connections).toBe(0);
    // With a default issuer (config identity.defaultIssuer) a re-run is sent.
    const fixed = configSchema.parse({ output: { hl7: [dest()] }, identity: { defaultIssuer: 'HOSP' } });
    await finishStudy(fixed, { flag: true }, STUDY, noIssuer);
    await deliverer(fixed).tick();
    expect(receiver.received.map((r) => r.msg.getSegment('PID')!.getComponent(3, 4))).toEqual(['HOSP']);
  });
});

describe('MLLP over TLS', () => {
  it('with the configured CA: delivered; without it: a certificate error, retried', async () => {
    const ca = makeTestCa(mkdtempSync(join(tmpdir(), 'hl7-tls-')));
    const secure = new MllpReceiver(await freePort(), { key: ca.key, cert: ca.cert });
    await secure.start();
    try {
      const to = { host: '127.0.0.1', port: secure.port, tls: true, timeoutSeconds: 5 };
      const untrusted = configFor([to]);
      await finishStudy(untrusted, { flag: true });
      await deliverer(untrusted).tick();
      expect(hl7Rows()).toMatchObject([{ state: 'pending', last_error: expect.stringMatching(/certificate/i) }]);
      expect(secure.received).toHaveLength(0);
      const trusted = configFor([{ ...to, caFile: ca.caFile }]);
      store.clock.advance(10_000);
      await deliverer(trusted).tick();
      expect(hl7Rows()).toMatchObject([{ state: 'sent', attempts: 2 }]);
      expect(secure.received).toHaveLength(1);
      expect(receiver.connections).toBe(0);
    } finally {
      await secure.stop();
    }
  });
});

describe('the test receiver refuses malformed messages (AR with the problem), and the sender reads its ERR', () => {
  it('LF separators, missing PID-3, no MSH', async () => {
    const config = configFor([dest()]);
    await finishStudy(config, { flag: true });
    const good = readFileSync(hl7Rows()[0]!.path, 'utf8');
    expect(problemsOf(good)).toEqual([]);
    const bad: [string, RegExp][] = [
      [good.replace(/\r/g, '\n'), /segments must be separated by CR only/],
      [good.replace(/\rPID\|1\|\|[^|\r]*/, '\rPID|1||'), /PID-3 has no identifier/],
      [good.slice(good.indexOf('\r') + 1), /does not start with MSH/],
      [good.replace('ORU^R01^ORU_R01', 'ORU^R01'), /MSH-9 is ORU\^R01/],
    ];
    const client = new MllpClient({ host: '127.0.0.1', port: receiver.port, timeoutMs: 2000 });
    await client.connect();
    try {
      for (const [msg, problem] of bad) {
        const r = interpretAck(await client.exchange(msg), hl7Rows()[0]!.sop_uid);
        expect(r.ok).toBe(false);
        expect(r.retryable).toBe(true);
        expect(r.error).toMatch(/^HL7 AR \(application reject\): Malformed message; /);
        expect(r.error).toMatch(problem);
      }
    } finally {
      client.close();
    }
    expect(receiver.malformed).toHaveLength(bad.length);
    expect(receiver.received).toHaveLength(0);
  });
});

describe('HL7 v2 pieces', () => {
  it('escapes and unescapes the delimiters; line breaks become spaces', () => {
    const s = 'a|b^c&d~e\\f';
    expect(escapeHl7(s)).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
    expect(unescapeHl7(escapeHl7(s))).toBe(s);
    expect(unescape(escapeHl7(s))).toBe(s);
    expect(escapeHl7('line 1\r\nline 2')).toBe('line 1 line 2');
  });

  it('reads ACKs: MSA-3, ERR-8 / ERR-3 / v2.3 ERR-1, another field separator; refuses what is not an ACK', () => {
    expect(readAck('MSH|^~\\&|X\rMSA|AA|C1\r')).toEqual({ code: 'AA', controlId: 'C1', text: '' });
    expect(readAck('MSH|^~\\&|X\rMSA|AE|C1|Bad \\F\\ value\rERR||||E||||user text\rERR|||207^Application internal error^HL70357\r')).toEqual({ code: 'AE', controlId: 'C1', text: 'Bad | value; user text; Application internal error' });
    expect(readAck('MSH|^~\\&|X\nMSA|AR|C1\nERR|PID^1^3^204&Unknown key identifier&HL70357\n')).toMatchObject({ code: 'AR', text: 'Unknown key identifier' });
    expect(readAck('MSH#^~\\&#X\rMSA#CA#C1\r')).toMatchObject({ code: 'CA', controlId: 'C1' });
    expect(readAck('MSH|^~\\&|X\rMSA|ZZ|C1\r')).toEqual({ malformed: 'MSA-1 is "ZZ", not an acknowledgment code' });
    expect(readAck('MSH|^~\\&|X\r')).toEqual({ malformed: 'the answer has no MSA segment' });
    expect(readAck('MSH|^~\\&|X\rMSA|AE|C1|bell\x07 and\ttab\x1b[31m red\r')).toMatchObject({ text: 'bell and tab [31m red' });
    expect(interpretAck('MSH|^~\\&|X\rMSA|CR|C1|no\r', 'C1')).toEqual({ ok: false, error: 'HL7 CR (commit reject): no', retryable: true });
  });

  it('MLLP frames: skips bytes outside frames, keeps a half frame for later', () => {
    const two = Buffer.concat([Buffer.from('noise'), mllpFrame('A'), Buffer.from('\r\n'), mllpFrame('B'), Buffer.from([0x0b, 0x43])]);
    const { frames, rest } = readFrames(two);
    expect(frames.map((f) => f.toString())).toEqual(['A', 'B']);
    expect(rest.toString('latin1')).toBe('\x0bC');
  });

  it('config: a JSON array or host:port items; delimiters refused in MSH names; the key is hl7:<host>:<port>', () => {
    const cfg = loadConfig({ env: { OSTEOSCREEN_OUTPUT_HL7: 'ehr.example:2575,10.1.2.3:6661' } });
    expect(cfg.output.hl7).toEqual([
      { host: 'ehr.example', port: 2575, sendingApplication: 'OSTEOSCREEN', sendingFacility: '', receivingApplication: '', receivingFacility: '', processingId: 'P', onlyFlagged: false, tls: false, timeoutSeconds: 30 },
      expect.objectContaining({ host: '10.1.2.3', port: 6661 }),
    ]);
    const json = loadConfig({ env: { OSTEOSCREEN_OUTPUT_HL7: JSON.stringify([{ host: 'ehr', port: 2575, receivingApplication: 'EPIC', processingId: 'T', onlyFlagged: true }]) } });
    expect(json.output.hl7[0]).toMatchObject({ receivingApplication: 'EPIC', processingId: 'T', onlyFlagged: true });
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_HL7: JSON.stringify([{ host: 'ehr', port: 2575, sendingFacility: 'A|B' }]) } })).toThrow(/OSTEOSCREEN_OUTPUT_HL7.*no HL7 delimiter/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_HL7: JSON.stringify([{ host: 'ehr', port: 2575, tls: true, caFile: '/nonexistent/ca.pem' }]) } })).toThrow(/output\.hl7\.0\.caFile: file not found/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_HL7: 'ehr-without-port' } })).toThrow(/OSTEOSCREEN_OUTPUT_HL7/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_HL7: 'ehr:2575,ehr:2575' } })).toThrow(/output\.hl7\.1\): ehr:2575 is listed twice/);
    expect(hl7Key(cfg.output.hl7[0]!)).toBe('hl7:ehr.example:2575');
  });
});
