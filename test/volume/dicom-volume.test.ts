/**
 * DICOM series → Volume: ordering, Enhanced MR, rescale, missing/duplicated/irregular slices, compressed syntaxes
 * (made with dcmtk's dcmcjpls/dcmcrle/dcmcjpeg in the test; JPEG 2000 made with dcmjs-codecs' encoder).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { skipWithoutCommands } from '../helpers/tools.js';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { spawnSync } from 'node:child_process';
import dcmjs from 'dcmjs';
import { writePhantomStudies, generateStudy, type StudyManifest, type PhantomStudy } from '../../src/phantom/index.js';
import { loadSeriesVolume } from '../../src/dicom/volume.js';
import { parseDicom, readInstanceHeader } from '../../src/dicom/header.js';
import { loadWasmCodecs, TS } from '../../src/dicom/codecs.js';
import { NotAssessable } from '../../src/common/errors.js';
import { sameGeometry } from '../../src/volume/types.js';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

/** Rewrite a Part-10 file with dcmjs after mutating its naturalized dataset. */
function rewrite(src: string, dst: string, mutate: (ds: Record<string, any>, meta: Record<string, any>) => void): void {
  const { meta, dataset } = parseDicom(readFileSync(src), true);
  mutate(dataset, meta);
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  writeFileSync(dst, Buffer.from(dict.write()));
}

async function expectNotAssessable(p: Promise<unknown>, re: RegExp): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NotAssessable);
    expect((e as Error).message).toMatch(re);
    return (e as Error).message;
  }
  throw new Error('expected NotAssessable');
}

describe('loadSeriesVolume', () => {
  let root: string;
  let classic: StudyManifest;
  let enhanced: StudyManifest;
  let classicMem: PhantomStudy;
  let enhancedMem: PhantomStudy;
  const filesOf = (m: StudyManifest, role: string) => m.series.find((s) => s.role === role)!.files.map((f) => join(root, f));
  const imageOf = (st: PhantomStudy, role: string) => st.series.find((s) => s.role === role)!;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'dicom-volume-'));
    [classic] = writePhantomStudies({ out: join(root, 'c'), seed: 31, count: 1, vendor: 'ge', subSamples: 1, roles: ['t1', 't2', 'localizer'] });
    [enhanced] = writePhantomStudies({ out: join(root, 'e'), seed: 32, count: 1, vendor: 'philips', subSamples: 1, enhanced: true, roles: ['t1', 't2'] });
    for (const m of [classic!, enhanced!]) {
      const pre = m === classic ? 'c' : 'e';
      for (const s of m.series) s.files = s.files.map((f) => join(pre, f));
    }
    classicMem = generateStudy({ seed: 31, vendor: 'ge', subSamples: 1, roles: ['t1', 't2', 'localizer'] });
    enhancedMem = generateStudy({ seed: 32, vendor: 'philips', subSamples: 1, enhanced: true, roles: ['t1', 't2'] });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('assembles a classic series in any file order with exact values and geometry', async () => {
    const files = filesOf(classic, 't2');
    const a = await loadSeriesVolume(files);
    const b = await loadSeriesVolume([...files].reverse());
    const c = await loadSeriesVolume([files[3]!, ...files.filter((_, i) => i !== 3)]);
    const mem = imageOf(classicMem, 't2');
    expect(sameGeometry(a, mem.geometry!, 1e-4)).toBe(true);
    for (const v of [a, b, c]) {
      expect(sameGeometry(v, a, 0)).toBe(true);
      expect(Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(mem.image.buffer))).toBe(0);
    }
  });

  it('assembles Enhanced MR multi-frame series (per-frame positions, RescaleSlope in functional groups)', async () => {
    for (const role of ['t1', 't2']) {
      const files = filesOf(enhanced, role);
      expect(files).toHaveLength(1);
      const h = readInstanceHeader(files[0]!);
      expect(h.enhanced).toBe(true);
      expect(h.frames.length).toBeGreaterThanOrEqual(10);
      const v = await loadSeriesVolume(files);
      const mem = imageOf(enhancedMem, role);
      expect(mem.rescaleSlope).toBeGreaterThan(1);
      expect(sameGeometry(v, mem.geometry!, 1e-4)).toBe(true);
      let err = 0;
      for (let i = 0; i < v.data.length; i++) err = Math.max(err, Math.abs(v.data[i]! - mem.image[i]!));
      expect(err).toBe(0);
    }
  });

  it('a study with one slice missing is not assessable and the reason names the gap', async () => {
    const files = filesOf(classic, 't1');
    const g = classic.series.find((s) => s.role === 't1')!.geometry!;
    // remove the file holding the 5th slice along the normal
    const heads = files.map((f) => ({ f, h: readInstanceHeader(f) }));
    const n = [g.direction[2], g.direction[5], g.direction[8]];
    heads.sort((x, y) => dotp(n, x.h.frames[0]!.position!) - dotp(n, y.h.frames[0]!.position!));
    const gone = heads.splice(4, 1)[0]!;
    const msg = await expectNotAssessable(loadSeriesVolume(heads.map((x) => x.f)), /missing slice: 1 of \d+/);
    expect(msg).toMatch(new RegExp(`gap of ${(2 * g.spacing[2]).toFixed(2)} mm`));
    expect(basename(gone.f)).toMatch(/\.dcm$/);
  });

  it('duplicated slice positions, irregular spacing, mixed orientations are not assessable; a repeated file is ignored', async () => {
    const files = filesOf(classic, 't1');
    const dir = join(root, 'mod');
    mkdirSync(dir, { recursive: true });
    // same instance twice (e.g. received twice): ignored
    await expect(loadSeriesVolume([...files, files[2]!])).resolves.toBeTruthy();
    // a second instance at the same position
    const dup = join(dir, 'dup.dcm');
    rewrite(files[2]!, dup, (ds, meta) => {
      ds.SOPInstanceUID = `${ds.SOPInstanceUID}.9`;
      meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID;
    });
    await expectNotAssessable(loadSeriesVolume([...files, dup]), /duplicated slice position/);
    // one slice shifted by 1.3 mm along the normal
    const g = classic.series.find((s) => s.role === 't1')!.geometry!;
    const n = [g.direction[2], g.direction[5], g.direction[8]];
    const shifted = join(dir, 'shift.dcm');
    const victim = files[Math.floor(files.length / 2)]!;
    rewrite(victim, shifted, (ds) => {
      const p = (ds.ImagePositionPatient as (string | number)[]).map(Number);
      ds.ImagePositionPatient = p.map((x, k) => String(Number((x + 1.3 * n[k]!).toFixed(4))));
    });
    await expectNotAssessable(loadSeriesVolume([...files.filter((f) => f !== victim), shifted]), /irregular slice spacing/);
    // a slice from another orientation
    const rot = join(dir, 'rot.dcm');
    rewrite(victim, rot, (ds) => {
      ds.ImageOrientationPatient = ['1', '0', '0', '0', '0', '-1'];
    });
    await expectNotAssessable(loadSeriesVolume([...files.filter((f) => f !== victim), rot]), /differ in orientation/);
    // the 3-plane localizer cannot be assembled
    await expectNotAssessable(loadSeriesVolume(filesOf(classic, 'localizer')), /orientation/);
  });

  it.skipIf(skipWithoutCommands('dcmcjpls', 'dcmcrle', 'dcmcjpeg'))('decodes JPEG-LS, RLE, JPEG lossless (SV1 and process 14) made by dcmtk, identical to the original', async () => {
    const files = filesOf(classic, 't2');
    const ref = await loadSeriesVolume(files);
    const cases: { name: string; tool: string; args: string[]; ts: string }[] = [
      { name: 'jpeg-ls', tool: 'dcmcjpls', args: [], ts: TS.jpegLsLossless },
      { name: 'rle', tool: 'dcmcrle', args: [], ts: TS.rle },
      { name: 'jpeg-sv1', tool: 'dcmcjpeg', args: ['+e1'], ts: TS.jpegLosslessSV1 },
      { name: 'jpeg-p14', tool: 'dcmcjpeg', args: ['+el', '+sv', '6'], ts: TS.jpegLossless14 },
    ];
    for (const c of cases) {
      const dir = join(root, c.name);
      mkdirSync(dir, { recursive: true });
      const out = files.map((f) => {
        const o = join(dir, basename(f));
        const r = spawnSync(c.tool, [...c.args, f, o], { encoding: 'utf8' });
        expect(r.status, `${c.tool} ${r.stderr}`).toBe(0);
        return o;
      });
      expect(readInstanceHeader(out[0]!).transferSyntaxUID).toBe(c.ts);
      const v = await loadSeriesVolume(out);
      expect(sameGeometry(v, ref, 0)).toBe(true);
      expect(Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(ref.data.buffer)), c.name).toBe(0);
    }
  });

  it.skipIf(skipWithoutCommands('dcmconv'))('reads implicit VR, deflated and explicit big-endian files identically', async () => {
    const files = filesOf(classic, 't2').slice(0, 4);
    const ref = await loadSeriesVolume(files);
    for (const [name, opt, ts] of [['implicit', '+ti', TS.implicitLE], ['deflated', '+td', TS.deflatedLE], ['big-endian', '+tb', TS.explicitBE]] as const) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const out = files.map((f) => {
        const o = join(dir, basename(f));
        const r = spawnSync('dcmconv', [opt, f, o], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return o;
      });
      expect(readInstanceHeader(out[0]!).transferSyntaxUID).toBe(ts);
      const v = await loadSeriesVolume(out);
      expect(sameGeometry(v, ref, 0)).toBe(true);
      expect(Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(ref.data.buffer)), name).toBe(0);
    }
  });

  it('decodes JPEG 2000 lossless (encoded with dcmjs-codecs) identical to the original', async () => {
    const files = filesOf(classic, 't1');
    const ref = await loadSeriesVolume(files);
    const mod = await loadWasmCodecs();
    const dir = join(root, 'j2k');
    mkdirSync(dir, { recursive: true });
    const out = files.map((f) => {
      const b = readFileSync(f);
      const t = new mod.Transcoder(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
      t.transcode(TS.jpeg2000Lossless);
      const o = join(dir, basename(f));
      writeFileSync(o, Buffer.from(t.getDicomPart10()));
      return o;
    });
    expect(readInstanceHeader(out[0]!).transferSyntaxUID).toBe(TS.jpeg2000Lossless);
    const v = await loadSeriesVolume(out);
    expect(Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(ref.data.buffer))).toBe(0);
  });

  it.skipIf(skipWithoutCommands('dcmcjpls', 'dcmcrle', 'dcmcjpeg'))('an undecodable syntax (JPEG extended 12-bit) is not assessable with the syntax name', async () => {
    const files = filesOf(classic, 't1').slice(0, 3);
    const dir = join(root, 'ext');
    mkdirSync(dir, { recursive: true });
    const out = files.map((f) => {
      const o = join(dir, basename(f));
      const r = spawnSync('dcmcjpeg', ['+ee', f, o], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return o;
    });
    await expectNotAssessable(loadSeriesVolume(out), /JPEG Extended \(Process 2 & 4\) \(1\.2\.840\.10008\.1\.2\.4\.51\)/);
  });
});

function dotp(a: number[], b: number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}
