/**
 * What the PACS receives is exactly what we wrote.
 *
 * SR, summary image and SEG, each with non-ASCII text (UTF-8, ISO_IR 192: the patient name "Phantom^Müller" (PN)
 * and the study description with "é" and "—" (LO) in all three; the SR's "UNVERIFIED — ..." UT content items and
 * the summary image's ImageComments (LT)), are sent with `sendFiles` to a real Orthanc. Then each file Orthanc
 * stored (GET /instances/{id}/file) is compared with the file OsteoScreen wrote:
 *
 * - compared: every byte of the data set, i.e. from the first byte after the file meta information group
 *   (0002,xxxx) to the end of the file, and the transfer syntax the data set is encoded in;
 * - not compared: the 128-byte preamble and the file meta group (Orthanc writes its own implementation UID /
 *   version and source AE title there).
 *
 * The SCU-side conversion to implicit VR (used only when a peer refuses explicit VR) is checked against dcmtk's
 * dcmconv, which rewrites the same data set without touching values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendFiles } from '../../src/dicom/scu.js';
import { splitPart10 } from '../../src/dicom/raw-dataset.js';
import { reencodeExplicitLE } from '../../src/dicom/reencode.js';
import { writePart10 } from '../../src/dicom/write.js';
import { buildSeg, buildSr, buildSummaryImage } from '../../src/report/index.js';
import { startOrthanc, type OrthancHandle } from '../helpers/orthanc.js';
import { makeInput, MR_STORAGE, T1_SERIES } from './inputs.js';
import { deterministicUid } from '../../src/dicom/uid.js';

const dir = mkdtempSync(join(tmpdir(), 'pacs-bytes-'));
let orthanc: OrthancHandle;

beforeAll(async () => {
  orthanc = await startOrthanc();
});
afterAll(async () => {
  await orthanc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeOutputs(): string[] {
  const input = makeInput('scored');
  input.source.StudyDescription = 'IRM rachis lombaire — sagittal (é)';
  const sr = buildSr(input);
  const sc = buildSummaryImage(input);
  const data = new Uint8Array(16 * 16 * 3);
  for (let j = 4; j < 10; j++) for (let i = 3; i < 12; i++) data[i + j * 16 + 16 * 16] = 1;
  const seg = buildSeg(input, {
    labels: { dims: [16, 16, 3], spacing: [1, 1, 5], origin: [0, 0, 0], direction: [0, 0, 1, 1, 0, 0, 0, -1, 0], data },
    frameOfReferenceUid: deterministicUid('test-for', 'bytes'),
    sliceInstances: [1, 2, 3].map((k) => ({ sopClassUid: MR_STORAGE, sopInstanceUid: deterministicUid(T1_SERIES, 'inst', k) })),
    sourceSeriesInstanceUid: T1_SERIES,
  })!;
  return [writePart10(sr, join(dir, 'sr.dcm')), writePart10(sc, join(dir, 'sc.dcm')), writePart10(seg, join(dir, 'seg.dcm'))];
}

const dataset = (buf: Buffer) => {
  const p = splitPart10(buf);
  return { ts: p.transferSyntaxUid, sop: p.sopInstanceUid, bytes: buf.subarray(p.datasetOffset) };
};

describe('C-STORE to a real Orthanc delivers our bytes unchanged', () => {
  it('SR, summary image and SEG: the data set Orthanc stores equals the one we wrote, byte for byte', async () => {
    const files = writeOutputs();
    const ours = files.map((f) => dataset(readFileSync(f)));
    // Non-ASCII text really is in each file, as UTF-8.
    for (const o of ours) expect(o.bytes.includes(Buffer.from('Müller', 'utf8'))).toBe(true);
    expect(ours[0]!.bytes.includes(Buffer.from('UNVERIFIED \u2014 research', 'utf8'))).toBe(true);

    const res = await sendFiles({ aeTitle: orthanc.aet, host: '127.0.0.1', port: orthanc.dicomPort, callingAeTitle: 'OSTEOSCREEN' }, files, { timeoutMs: 20_000 });
    expect(res.every((r) => r.ok && r.status === 0), JSON.stringify(res)).toBe(true);

    const ids: string[] = await orthanc.rest('/instances');
    expect(ids).toHaveLength(3);
    const stored = new Map<string, ReturnType<typeof dataset>>();
    for (const id of ids) {
      const r = await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances/${id}/file`);
      expect(r.ok).toBe(true);
      const d = dataset(Buffer.from(await r.arrayBuffer()));
      stored.set(d.sop, d);
    }
    for (const o of ours) {
      const s = stored.get(o.sop);
      expect(s, `Orthanc holds ${o.sop}`).toBeDefined();
      expect(s!.ts).toBe(o.ts);
      expect(s!.bytes.length).toBe(o.bytes.length);
      const firstDiff = o.bytes.findIndex((b, k) => s!.bytes[k] !== b);
      expect(firstDiff, `first differing data set byte of ${o.sop}`).toBe(-1);
    }
  });

  it('a PACS that accepts only implicit VR gets the same values: equal to dcmtk dcmconv +ti of our file', async () => {
    const implicitOnly = await startOrthanc({ extraConfig: { AcceptedTransferSyntaxes: ['1.2.840.10008.1.2'] } });
    try {
      const files = writeOutputs();
      const res = await sendFiles({ aeTitle: implicitOnly.aet, host: '127.0.0.1', port: implicitOnly.dicomPort, callingAeTitle: 'OSTEOSCREEN' }, files, { timeoutMs: 20_000 });
      expect(res.every((r) => r.ok && r.status === 0), JSON.stringify(res)).toBe(true);
      const ids: string[] = await implicitOnly.rest('/instances');
      const stored = new Map<string, ReturnType<typeof dataset>>();
      for (const id of ids) {
        const r = await fetch(`http://127.0.0.1:${implicitOnly.httpPort}/instances/${id}/file`);
        const d = dataset(Buffer.from(await r.arrayBuffer()));
        stored.set(d.sop, d);
      }
      expect(stored.size).toBe(3);
      for (const f of files) {
        const out = join(dir, 'implicit-ref.dcm');
        execFileSync('dcmconv', ['+ti', '-g', '+e', f, out]);
        const ref = dataset(readFileSync(out));
        const got = stored.get(ref.sop)!;
        expect(got.ts).toBe('1.2.840.10008.1.2');
        expect(got.bytes.equals(ref.bytes), f).toBe(true);
      }
    } finally {
      await implicitOnly.stop();
    }
  });

  it('the explicit -> implicit VR conversion leaves every value as it is (equal to dcmtk dcmconv +ti)', () => {
    for (const f of writeOutputs()) {
      const out = join(dir, 'implicit.dcm');
      execFileSync('dcmconv', ['+ti', '-g', '+e', f, out]);
      const theirs = dataset(readFileSync(out));
      expect(theirs.ts).toBe('1.2.840.10008.1.2');
      const mine = reencodeExplicitLE(dataset(readFileSync(f)).bytes, { implicit: true });
      expect(mine.equals(theirs.bytes), f).toBe(true);
    }
  });
});
