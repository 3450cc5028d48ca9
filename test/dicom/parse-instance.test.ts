/**
 * parseInstance (one dcmjs parse where provably the same) judges every instance exactly as the two parses it
 * replaces (parseHeader, then pixelDataProblem): the same exception, the same UID problems, the same PixelData
 * verdict and the same index fields, on good instances, on the acceptance suite's targeted malformations and on
 * zzuf mutations of the kinds the fuzz acceptance test sends (whole file, header region, pixel values).
 * fastInstance (no dcmjs: the walked elements) gives the same verdict and index fields wherever it decides at all,
 * and decides for the usual instances: synthetic, phantom (three vendors' headers) and both real sites' series.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipWithoutCommands } from '../helpers/tools.js';
import { writeMrSeries } from '../helpers/mr.js';
import { part10Header } from '../../src/dicom/part10.js';
import { datasetStructureProblem, type RawElement, type WalkNotes } from '../../src/dicom/elements.js';
import { fastInstance } from '../../src/dicom/fast-instance.js';
import { splitPart10 } from '../../src/dicom/part10.js';
import { generateStudy } from '../../src/phantom/generate.js';
import { writeSeries } from '../../src/phantom/dicom-writer.js';
import { reencodeExplicitLE } from '../../src/dicom/reencode.js';
import { instanceMeta, parseHeader, parseInstance, pixelDataProblem } from '../../src/dicom/tags.js';
import { zzuf, rawDatasetOf, pixelDataOffset, datasetOffset, lieAboutLength, insertEarly, undelimitedSequence, deepSequence, element, replaceValue } from '../acceptance/malformed.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-parse-instance-'));

/** The listener's verdict from the two parses (as storeReceived judged before). */
function twoParses(buf: Buffer, ts: string): string {
  try {
    const { meta, dataset, uidProblems } = parseHeader(buf);
    if (uidProblems.length) return `uid ${uidProblems.join(',')}`;
    const px = pixelDataProblem(buf, ts, dataset);
    if (px) return `pixel ${px}`;
    return JSON.stringify(instanceMeta(meta, dataset));
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

function oneParse(buf: Buffer, ts: string, topLevel: number[]): string {
  try {
    const { meta, dataset, uidProblems, pixelProblem } = parseInstance(buf, ts, topLevel);
    if (uidProblems.length) return `uid ${uidProblems.join(',')}`;
    if (pixelProblem) return `pixel ${pixelProblem}`;
    return JSON.stringify(instanceMeta(meta, dataset));
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

/** The fast path's verdict, or undefined where it leaves the decision to dcmjs. */
function fastParse(elements: RawElement[], ts: string, notes: WalkNotes): string | undefined {
  const f = fastInstance(elements, ts, notes);
  if (!f) return undefined;
  return f.pixelProblem ? `pixel ${f.pixelProblem}` : JSON.stringify(f.info);
}

/** The verdicts for a dataset as the listener holds it (our Part-10 header first), when it passes the structure walk. */
function verdicts(dataset: Buffer, ts = EXPLICIT_LE, sopClass = MR): { one: string; two: string; fast?: string } | null {
  const header = part10Header(sopClass, '1.2.3.4', ts, 'TEST');
  const buf = Buffer.concat([header, dataset]);
  const topLevel: RawElement[] = [];
  const notes: WalkNotes = { unknownVr: false };
  if (datasetStructureProblem(buf.subarray(header.length), ts, (e) => topLevel.push(e), notes)) return null;
  const two = twoParses(Buffer.from(buf), ts);
  return { one: oneParse(buf, ts, topLevel.map((e) => e.tag)), two, fast: fastParse(topLevel, ts, notes) };
}

/** A Part-10 file as the listener would hold it: its data set, transfer syntax and SOP class. */
function asReceived(file: string): [Buffer, string, string] {
  const b = readFileSync(file);
  const p = splitPart10(b);
  return [b.subarray(p.datasetOffset), p.transferSyntaxUid, p.sopClassUid];
}

describe('parseInstance: the same verdicts as parseHeader + pixelDataProblem', () => {
  const s = writeMrSeries(path.join(tmp, 'mr'), { count: 4, rows: 64, columns: 64 });
  const base = readFileSync(s.files[0]!);
  const ds = rawDatasetOf(base);

  it('on good instances, and on targeted malformations that pass the structure walk', () => {
    const shortPixelData = Buffer.concat([ds.subarray(0, pixelDataOffset(ds)), element(0x7fe0, 0x0010, 'OW', Buffer.alloc(100))]);
    const cases: Buffer[] = [
      ...s.files.map((f) => rawDatasetOf(readFileSync(f))),
      lieAboutLength(ds, 0x7fe0, 0x0010, 100),
      insertEarly(ds, undelimitedSequence()),
      insertEarly(ds, deepSequence(40)),
      replaceValue(ds, 0x0020, 0x000d, Buffer.from('1.2.3/../x')),
      replaceValue(ds, 0x0020, 0x000d, Buffer.from('1.' + '2'.repeat(70))),
      // an element after PixelData, and one after it that repeats a header tag
      Buffer.concat([ds, element(0xfffc, 0xfffc, 'OB', Buffer.alloc(8))]),
      Buffer.concat([ds, element(0x0020, 0x000d, 'UI', Buffer.from('9.9.9.9\0'))]),
      // no PixelData at all
      ds.subarray(0, pixelDataOffset(ds)),
      // PixelData too short for Rows x Columns, with lengths that agree (passes the walk)
      shortPixelData,
      // values the fast path reads: padded, multi-valued, empty, odd numbers
      replaceValue(ds, 0x0008, 0x103e, Buffer.from(' Sag T1 \\second ')),
      replaceValue(ds, 0x0020, 0x0011, Buffer.from('+7 ')),
      replaceValue(ds, 0x0018, 0x0080, Buffer.from('5.e2')),
      replaceValue(ds, 0x0018, 0x0080, Buffer.from('1e400 ')),
      replaceValue(ds, 0x0018, 0x0080, Buffer.from('12abc ')),
      replaceValue(ds, 0x0020, 0x0037, Buffer.from('0\\1\\0\\0\\0\\-1')),
      replaceValue(ds, 0x0008, 0x0008, Buffer.from('ORIGINAL\\\\M ')),
      replaceValue(ds, 0x0008, 0x0060, Buffer.from('')),
      replaceValue(ds, 0x0010, 0x0010, Buffer.from('DOE^JOHN=')),
      replaceValue(ds, 0x0010, 0x0010, Buffer.from('M\xfcller^Hans', 'latin1')),
    ];
    let compared = 0;
    let fast = 0;
    for (const [i, c] of cases.entries()) {
      const v = verdicts(c);
      if (!v) continue;
      compared++;
      expect(v.one, `case ${i}`).toBe(v.two);
      if (v.fast === undefined) continue;
      fast++;
      expect(v.fast, `case ${i} (fast path)`).toBe(v.two);
    }
    expect(compared).toBeGreaterThanOrEqual(8);
    // the synthetic instances, the PixelData length lie and the one without PixelData go the fast way; the bad
    // UIDs and the elements after PixelData do not
    expect(fast).toBeGreaterThanOrEqual(6);
    expect(verdicts(replaceValue(ds, 0x0020, 0x000d, Buffer.from('1.2.3/../x')))!.fast).toBeUndefined();
    // a VR that PS3.5 does not define (zzuf made one): the walk reads a 2-byte length, dcmjs a 4-byte one
    const at = ds.indexOf(Buffer.from([0x28, 0x00, 0x30, 0x00, 0x44, 0x53])); // (0028,0030) DS, not read by the fast path
    expect(at).toBeGreaterThan(0);
    const unknownVr = Buffer.from(ds);
    unknownVr.write('ES', at + 4, 'latin1');
    const uv = verdicts(unknownVr)!;
    expect(uv.fast).toBeUndefined();
    expect(uv.one).toBe(uv.two);
    expect(verdicts(Buffer.concat([ds, element(0x0020, 0x000d, 'UI', Buffer.from('9.9.9.9\0'))]))!.fast).toBeUndefined();
    const shortPixels = verdicts(shortPixelData)!;
    expect(shortPixels.fast).toMatch(/^pixel PixelData holds 100 bytes/);
    expect(shortPixels.fast).toBe(shortPixels.two);
  });

  it('the fast path decides for phantom (three vendors) and real instances, with the same fields as dcmjs; Enhanced MR and implicit VR go to dcmjs', () => {
    const files: string[] = [];
    for (const [i, vendor] of (['siemens', 'ge', 'philips'] as const).entries()) {
      const st = generateStudy({ seed: 777003, index: i, vendor, roles: ['t1'] });
      const t1 = st.series.find((x) => x.role === 't1')!;
      files.push(...writeSeries(st, t1, path.join(tmp, `ph-${vendor}`), false).slice(0, 2));
      if (i === 0) files.push(...writeSeries(st, t1, path.join(tmp, `ph-${vendor}-enh`), true));
    }
    // both real sites (read-only shared data; absent on a machine without it)
    for (const site of ['real-lumbar-dev', 'real-lumbar-3t']) {
      const root = path.resolve('..', 'shared', site);
      if (!existsSync(root)) continue;
      for (const c of readdirSync(root).filter((d) => /^case\d+$/.test(d)).slice(0, 6)) files.push(path.join(root, c, 'dicom', 'IM0001.dcm'));
    }
    let fast = 0;
    let enhanced = 0;
    for (const f of files) {
      const [dataset, ts, cls] = asReceived(f);
      const v = verdicts(dataset, ts, cls)!;
      expect(v, f).not.toBeNull();
      expect(v.two, f).toMatch(/^\{/);
      if (cls === '1.2.840.10008.5.1.4.1.1.4.1') {
        enhanced++;
        expect(v.fast, `${f}: Enhanced MR reads its fields from functional groups`).toBeUndefined();
        continue;
      }
      expect(v.fast, `${f}: the fast path should decide`).toBeDefined();
      expect(v.fast, f).toBe(v.two);
      fast++;
    }
    expect(enhanced).toBeGreaterThanOrEqual(1);
    expect(fast).toBeGreaterThanOrEqual(6);
    // the same instance re-encoded in implicit VR little endian: the fast path leaves it to dcmjs
    const [dataset] = asReceived(files[0]!);
    const implicit = verdicts(reencodeExplicitLE(dataset, { implicit: true }), '1.2.840.10008.1.2')!;
    expect(implicit, 'the implicit VR instance passes the walk').not.toBeNull();
    expect(implicit.two).toMatch(/^\{/);
    expect(implicit.fast).toBeUndefined();
  }, 120_000);

  it.skipIf(skipWithoutCommands('zzuf'))('on 600 zzuf mutations (whole file, header region, dataset header, pixel values)', () => {
    const px = pixelDataOffset(base);
    const dso = datasetOffset(base);
    let compared = 0;
    let accepted = 0;
    let fastDecided = 0;
    let fastRefused = 0;
    const src = s.files[0]!;
    for (let i = 0; i < 600; i++) {
      const mode = i % 4;
      const out = mode === 0 ? zzuf(src, i + 1, 0.0005) : mode === 1 ? zzuf(src, i + 1, 0.004, `0-${px}`) : mode === 2 ? zzuf(src, i + 1, 0.002, `${dso}-${px}`) : zzuf(src, i + 1, 0.002, `${px + 12}-`);
      const v = verdicts(rawDatasetOf(out));
      if (!v) continue;
      compared++;
      if (v.two.startsWith('{')) accepted++;
      expect(v.one, `mutation ${i} (mode ${mode})`).toBe(v.two);
      if (v.fast === undefined) continue;
      fastDecided++;
      if (!v.two.startsWith('{')) fastRefused++;
      expect(v.fast, `mutation ${i} (mode ${mode}, fast path)`).toBe(v.two);
    }
    // the fast path decided many mutations, refusals among them
    expect(fastDecided).toBeGreaterThan(100);
    expect(fastRefused).toBeGreaterThan(0);
    // Both verdicts were exercised: many mutations pass the walk, some are accepted, some refused.
    expect(compared).toBeGreaterThan(200);
    expect(accepted).toBeGreaterThan(50);
    expect(compared - accepted).toBeGreaterThan(20);
  }, 120_000);
});
