/**
 * The pure parts of issue 26 and the pipeline hook: outcome checks, CSV reading with line numbers, matching (window,
 * nearest wins, issuer systems, label rule), the HL7 ORU parser (cross-checked with @medplum/core's parser, a
 * devDependency used only here) and recordScreened on a real SQLite store with a real DICOM file.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hl7Message } from '@medplum/core';
import { checkOutcome, isoDate } from '../../src/outcomes/record.js';
import { importOutcomeCsv } from '../../src/outcomes/import.js';
import { matchOutcomes } from '../../src/outcomes/match.js';
import { outcomeOfOru, parseHl7, Hl7Refusal, buildAck, LOINC_LUMBAR_T_SCORE } from '../../src/outcomes/hl7-oru.js';
import { recordScreened } from '../../src/outcomes/screened.js';
import { startOutcomeListener } from '../../src/outcomes/listener.js';
import { MllpClient, mllpFrame, readFrames } from '../../src/output/mllp.js';
import net from 'node:net';
import { STUDY_LABEL_RULE } from '../../src/model/labels.js';
import { readAck } from '../../src/output/hl7.js';
import { memoryStore, receive } from '../helpers/memory-store.js';
import { loadConfig } from '../../src/config/load.js';
import type { OutcomeRow, ScreenedStudy } from '../../src/store/index.js';
import { writePart10 } from '../../src/dicom/write.js';

const study = (x: Partial<ScreenedStudy>): ScreenedStudy => ({
  studyUid: '1.2.3', jobId: 1, scanner: 'S', patientId: 'P1', issuer: 'HOSP', identityProblem: null, studyDate: '2026-03-01',
  score: 0.6, cutoff: 0.525, modelName: 'm', modelVersion: '1.0.0', modelHash: 'h', recordedAt: 0, ...x,
});
let oid = 0;
const outcome = (x: Partial<OutcomeRow>): OutcomeRow => ({
  id: ++oid, patientId: 'P1', issuer: 'HOSP', dxaDate: '2026-03-01', tScore: -1.5, zScore: -1, tSite: null, zSite: null, age: 70, sex: 'F',
  source: 'csv', sourceRef: null, receivedAt: 0, ...x,
});

describe('outcome checks and CSV import', () => {
  it('checks every field and names the field, never the patient', () => {
    expect(isoDate('2024-02-29')).toBe('2024-02-29');
    expect(isoDate('20240229')).toBe('2024-02-29');
    expect(isoDate('2023-02-29')).toBeNull();
    const ok = checkOutcome({ patient_id: ' 123 ', issuer: '', dxa_date: '2026-01-02', t_score: '−1.3', z_score: '', age: '61', sex: 'female' }, 'HOSP', 'csv', 'f:2');
    expect(ok).toEqual({ ok: true, outcome: expect.objectContaining({ patientId: '123', issuer: 'HOSP', tScore: -1.3, zScore: null, age: 61, sex: 'F' }) });
    expect(checkOutcome({ patient_id: 'SECRET', issuer: 'H', dxa_date: '2026-01-02', t_score: '12', z_score: '', age: '', sex: '' }, '', 'api', null)).toEqual({ ok: false, error: 't_score 12 is outside -10..10' });
    expect(checkOutcome({ patient_id: 'SECRET', issuer: '', dxa_date: '2026-01-02', t_score: '-1', z_score: '', age: '', sex: '' }, '', 'api', null)).toEqual({ ok: false, error: 'issuer is empty and identity.defaultIssuer is not set' });
    expect(checkOutcome({ patient_id: 'SECRET', issuer: 'H', dxa_date: '2026-01-02', t_score: '-1', z_score: '', age: '200', sex: '' }, '', 'api', null)).toEqual({ ok: false, error: 'age 200 is outside 0..130' });
  });

  it('imports a CSV with CRLF line ends, a quoted field and bad rows (line numbers, good rows kept); a missing column stops it', async () => {
    const store = memoryStore();
    const csv = 'sex,age,z_score,t_score,dxa_date,issuer,patient_id\r\nF,70,,-1.1,2026-01-01,HOSP,"A,1"\r\nF,70,,x,2026-01-01,HOSP,A2\r\n\r\nM,40,-2.5,,2026-01-01,,A3\r\n';
    const r = await importOutcomeCsv(store, csv, '/x/dxa.csv', 'DEF');
    expect(r).toEqual({ stored: 2, rejected: [{ line: 3, error: 't_score "x" is not a number' }], ignoredColumns: [] });
    const rows = store.outcomes.list();
    expect(rows.map((o) => [o.patientId, o.issuer, o.sourceRef])).toEqual([['A,1', 'HOSP', 'dxa.csv:2'], ['A3', 'DEF', 'dxa.csv:5']]);
    await expect(importOutcomeCsv(store, 'patient_id,dxa_date\n1,2026-01-01\n', 'y.csv', '')).rejects.toThrow('the CSV header lacks the columns issuer, t_score, z_score, age, sex');
    // The same rows again replace, not duplicate.
    await importOutcomeCsv(store, csv, '/x/dxa.csv', 'DEF');
    expect(store.outcomes.count()).toBe(2);
  });
});

describe('matching', () => {
  const opts = { windowDays: 180, rule: STUDY_LABEL_RULE };

  it('labels a study by the nearest DXA in the window (tie: the earlier), lists the others and the unmatched with the reason', () => {
    const s1 = study({ studyUid: 's1', jobId: 1, studyDate: '2026-03-01' });
    const before = outcome({ dxaDate: '2026-02-20', tScore: -0.5 }); // 9 days before
    const after = outcome({ dxaDate: '2026-03-10', tScore: -2 }); // 9 days after: tie, the earlier wins
    const far = outcome({ dxaDate: '2026-08-27', tScore: -3 }); // 179 days: in the window, not the nearest
    const out = outcome({ dxaDate: '2026-09-01' }); // 184 days
    const other = outcome({ patientId: 'P2' });
    const m = matchOutcomes([s1], [before, after, far, out, other], opts);
    expect(m.pairs).toHaveLength(1);
    expect(m.pairs[0]).toMatchObject({ outcome: { id: before.id }, days: -9, label: 0, rule: 't-score' });
    expect(m.pairs[0]!.alternatives.map((a) => a.days)).toEqual([9, 179]);
    expect(Object.fromEntries(m.unmatched.map((u) => [u.outcome.id, u.reason]))).toEqual({
      [after.id]: 'another DXA of this patient is nearer to each of its screened studies in the window',
      [far.id]: 'another DXA of this patient is nearer to each of its screened studies in the window',
      [out.id]: "the patient's nearest screened study is 184 days before this DXA (window ± 180 days)",
      [other.id]: 'no screened study of this patient (identifier and issuer)',
    });
  });

  it('one DXA labels two MRIs of the patient; the label rule and the issuer key apply; studies without identity or date are counted', () => {
    const o = outcome({ sex: 'M', age: 45, tScore: -1.8, zScore: -2.0 });
    const m = matchOutcomes(
      [study({ studyUid: 'a', issuer: 'urn:oid:1.2.3' }), study({ studyUid: 'b', studyDate: '2026-04-01', issuer: 'urn:oid:1.2.3' }), study({ studyUid: 'c', patientId: null }), study({ studyUid: 'd', studyDate: null })],
      [o],
      { ...opts, issuerKey: (i) => (i === 'HOSP' ? 'urn:oid:1.2.3' : i) },
    );
    // A man of 45: Z-score rule, -2.0 is not below -2 (the study's strict rule).
    expect(m.pairs.map((p) => [p.study.studyUid, p.label, p.rule])).toEqual([['a', 0, 'z-score'], ['b', 0, 'z-score']]);
    expect(m.studiesWithout).toEqual({ identity: 1, date: 1 });
    expect(m.unmatched).toEqual([]);
    const configured = matchOutcomes([study({})], [o], { windowDays: 180, rule: { ...STUDY_LABEL_RULE, zScoreAbnormalBelow: -1.9 } });
    expect(configured.pairs[0]).toMatchObject({ label: 1, rule: 'z-score' });
  });
});

describe('HL7 v2 ORU^R01 parsing', () => {
  const msg = [
    'MSH|^~\\&|DXA|RAD|OSTEOSCREEN|HOSP|20260601120000||ORU^R01^ORU_R01|CTRL1|P|2.5.1',
    'PID|1||X9^^^OTHER^PI~123\\T\\4^^^&1.2.840.1&ISO^MR||DOE^JANE||19600615|F',
    'OBR|1||ACC|38269-7^DXA^LN|||20260301',
    `OBX|1|NM|${LOINC_LUMBAR_T_SCORE}^DXA Lumbar spine [T-score] Bone density^LN|1|-1.4|{T-score}|||||F|||20260302||||||^L1`,
    `OBX|2|SN|${LOINC_LUMBAR_T_SCORE}^DXA Lumbar spine [T-score] Bone density^LN|2|^-2.1|{T-score}|||||C|||20260302||||||^L3`,
    `OBX|3|NM|${LOINC_LUMBAR_T_SCORE}^DXA Lumbar spine [T-score] Bone density^LN|3|-4.0|{T-score}|||||X`,
    'OBX|4|NM|85394-5^DXA Lumbar spine [Z-score] Bone density^LN||-0.7|{Z-score}|||||F',
    'OBX|5|NM|38263-0^DXA Femur [T-score]^LN||-3.3||||||F',
  ].join('\r');

  it('reads PID-3 (MR repetition, OID issuer), sex, age at the DXA, the lowest lumbar T-score with its site, the Z-score, the date', () => {
    const o = outcomeOfOru(parseHl7(msg), { allowedSendingApplications: [], defaultIssuer: '' });
    expect(o).toEqual({ patientId: '123&4', issuer: '1.2.840.1', dxaDate: '2026-03-02', tScore: -2.1, zScore: -0.7, tSite: 'L3', zSite: null, age: 65, sex: 'F', source: 'hl7', sourceRef: 'hl7:CTRL1' });
    // The same reading by @medplum/core's parser (a second implementation): PID-3 second repetition, the OBX values.
    const m = Hl7Message.parse(msg);
    expect(m.getSegment('PID')!.getField(3).getComponent(1, undefined, 1)).toBe('123\\T\\4');
    expect(m.getAllSegments('OBX').map((s) => s.getField(3).getComponent(1))).toEqual([LOINC_LUMBAR_T_SCORE, LOINC_LUMBAR_T_SCORE, LOINC_LUMBAR_T_SCORE, '85394-5', '38263-0']);
  });

  it('refuses with AR / AE and builds an ACK the project\'s own ACK reader understands', () => {
    const refuse = (text: string, opts = { allowedSendingApplications: ['DXA2'], defaultIssuer: '' }) => {
      try {
        outcomeOfOru(parseHl7(text), opts);
      } catch (e) {
        return e as Hl7Refusal;
      }
      throw new Error('not refused');
    };
    expect(refuse(msg)).toMatchObject({ code: 'AR', message: 'sending application DXA is not allowed (outcomes.hl7AllowedSendingApplications)' });
    expect(refuse(msg.replace('2.5.1', '3.0'), { allowedSendingApplications: [], defaultIssuer: '' })).toMatchObject({ code: 'AR', errorCode: '203' });
    expect(refuse(msg.replace('-1.4|', '<-1|').replace('^-2.1', '<^-2.1'), { allowedSendingApplications: [], defaultIssuer: '' })).toMatchObject({ code: 'AE', errorCode: '102' });
    expect(() => parseHl7('MSHxx')).toThrow(Hl7Refusal);
    const ack = buildAck({ controlId: 'CTRL1', sendingApplication: 'DXA', sendingFacility: 'RAD' }, 'AE', 'no PID | segment', '100');
    expect(readAck(ack)).toEqual({ code: 'AE', controlId: 'CTRL1', text: 'no PID | segment' });
    expect(Hl7Message.parse(ack.replace(/\r$/, '')).getSegment('MSA')!.getField(1).toString()).toBe('AE');
  });
});

describe('recordScreened (the pipeline hook)', () => {
  it('records identity (no accession number needed), MRI date, score and model of a scored study; a study without identity with the reason', () => {
    const store = memoryStore();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'osteo-screened-'));
    const file = path.join(dir, 'i.dcm');
    const uids = { study: '1.2.826.0.1.3680043.8.498.9', series: '1.2.826.0.1.3680043.8.498.9.1', sop: '1.2.826.0.1.3680043.8.498.9.1.1' };
    writePart10({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.4', SOPInstanceUID: uids.sop, StudyInstanceUID: uids.study, SeriesInstanceUID: uids.series, Modality: 'MR', PatientID: 'P77', IssuerOfPatientID: 'HOSP', StudyDate: '20260301' }, file);
    receive(store, uids.study, uids.series, { studyDate: '20260301' }, file);
    const config = loadConfig({});
    const score = { score: 0.61, cutoff: 0.525, model: { name: 'm', version: '1.0.0', hash: 'sha256:x' } };
    recordScreened(store, config, { scanner: 'S', jobId: 5, studyUid: uids.study, score });
    receive(store, '1.2.3.4', '1.2.3.4.1', { studyDate: 'bad' });
    recordScreened(store, config, { scanner: 'S', jobId: 6, studyUid: '1.2.3.4', score, identity: () => ({ ok: false, reason: 'no patient identifier: PatientID (0010,0020) is empty' }) });
    recordScreened(store, config, { scanner: 'S', jobId: 7, studyUid: '1.2.3.4' }); // not scored: nothing
    expect([...store.outcomes.screened()].sort((a, b) => a.jobId - b.jobId).map((s) => [s.patientId, s.issuer, s.identityProblem, s.studyDate, s.score, s.modelVersion, s.jobId])).toEqual([
      ['P77', 'HOSP', null, '2026-03-01', 0.61, '1.0.0', 5],
      [null, null, 'no patient identifier: PatientID (0010,0020) is empty', null, 0.61, '1.0.0', 6],
    ]);
  });
});

describe('the MLLP listener (real TCP on loopback)', () => {
  const oru = 'MSH|^~\\&|DXA|RAD|OSTEOSCREEN|HOSP|20260601120000||ORU^R01|C9|P|2.5.1\rPID|1||P9^^^HOSP^MR||||F\rOBR|1||A|x|||20260301\rOBX|1|NM|38267-1^T^LN||-1.2||||||F\r';

  it('disconnects an address outside the allowlist before reading anything', async () => {
    const store = memoryStore();
    const config = loadConfig({ env: {}, overrides: { outcomes: { hl7Enabled: true, hl7Port: 0, hl7Host: '127.0.0.1', hl7AllowedSourceIps: ['10.9.9.9'] } } });
    const l = await startOutcomeListener(config, store);
    try {
      const c = new MllpClient({ host: '127.0.0.1', port: l.port, timeoutMs: 5000 });
      await c.connect().then(
        () => expect(c.exchange(oru)).rejects.toThrow(/closed|ECONNRESET|not connected/),
        (e) => expect(String(e)).toMatch(/closed|ECONNRESET/),
      );
      c.close();
      expect(store.outcomes.count()).toBe(0);
    } finally {
      await l.close();
    }
  });

  it('answers a frame that arrives in pieces, after storing it', async () => {
    const store = memoryStore();
    const config = loadConfig({ env: {}, overrides: { outcomes: { hl7Enabled: true, hl7Port: 0, hl7Host: '127.0.0.1' } } });
    const l = await startOutcomeListener(config, store);
    try {
      const frame = mllpFrame(oru);
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(l.port, '127.0.0.1', () => {
          sock.write(frame.subarray(0, 30));
          setImmediate(() => sock.write(frame.subarray(30)));
        });
        let buf = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          const f = readFrames(buf).frames;
          if (f.length) {
            sock.destroy();
            resolve(f[0]!.toString('utf8'));
          }
        });
        sock.on('error', reject);
      });
      expect(readAck(answer)).toMatchObject({ code: 'AA', controlId: 'C9' });
      expect(store.outcomes.list().map((o) => [o.patientId, o.dxaDate, o.tScore, o.source])).toEqual([['P9', '2026-03-01', -1.2, 'hl7']]);
    } finally {
      await l.close();
    }
  });
});
