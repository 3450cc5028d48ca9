/**
 * parseInstance (one dcmjs parse where provably the same) judges every instance exactly as the two parses it
 * replaces (parseHeader, then pixelDataProblem): the same exception, the same UID problems, the same PixelData
 * verdict and the same index fields, on good instances, on the acceptance suite's targeted malformations and on
 * zzuf mutations of the kinds the fuzz acceptance test sends (whole file, header region, pixel values).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipWithoutCommands } from '../helpers/tools.js';
import { writeMrSeries } from '../helpers/mr.js';
import { part10Header } from '../../src/dicom/part10.js';
import { datasetStructureProblem } from '../../src/dicom/elements.js';
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

/** Both verdicts for a dataset as the listener holds it (our Part-10 header first), when it passes the structure walk. */
function verdicts(dataset: Buffer): { one: string; two: string } | null {
  const header = part10Header(MR, '1.2.3.4', EXPLICIT_LE, 'TEST');
  const buf = Buffer.concat([header, dataset]);
  const topLevel: number[] = [];
  if (datasetStructureProblem(buf.subarray(header.length), EXPLICIT_LE, (e) => topLevel.push(e.tag))) return null;
  const two = twoParses(Buffer.from(buf), EXPLICIT_LE);
  return { one: oneParse(buf, EXPLICIT_LE, topLevel), two };
}

describe('parseInstance: the same verdicts as parseHeader + pixelDataProblem', () => {
  const s = writeMrSeries(path.join(tmp, 'mr'), { count: 4, rows: 64, columns: 64 });
  const base = readFileSync(s.files[0]!);
  const ds = rawDatasetOf(base);

  it('on good instances, and on targeted malformations that pass the structure walk', () => {
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
    ];
    let compared = 0;
    for (const [i, c] of cases.entries()) {
      const v = verdicts(c);
      if (!v) continue;
      compared++;
      expect(v.one, `case ${i}`).toBe(v.two);
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });

  it.skipIf(skipWithoutCommands('zzuf'))('on 600 zzuf mutations (whole file, header region, dataset header, pixel values)', () => {
    const px = pixelDataOffset(base);
    const dso = datasetOffset(base);
    let compared = 0;
    let accepted = 0;
    const src = s.files[0]!;
    for (let i = 0; i < 600; i++) {
      const mode = i % 4;
      const out = mode === 0 ? zzuf(src, i + 1, 0.0005) : mode === 1 ? zzuf(src, i + 1, 0.004, `0-${px}`) : mode === 2 ? zzuf(src, i + 1, 0.002, `${dso}-${px}`) : zzuf(src, i + 1, 0.002, `${px + 12}-`);
      const v = verdicts(rawDatasetOf(out));
      if (!v) continue;
      compared++;
      if (v.two.startsWith('{')) accepted++;
      expect(v.one, `mutation ${i} (mode ${mode})`).toBe(v.two);
    }
    // Both verdicts were exercised: many mutations pass the walk, some are accepted, some refused.
    expect(compared).toBeGreaterThan(200);
    expect(accepted).toBeGreaterThan(50);
    expect(compared - accepted).toBeGreaterThan(20);
  }, 120_000);
});
