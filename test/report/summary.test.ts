import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { buildSummaryImageWithPreview, outputUids, SECONDARY_CAPTURE_SOP_CLASS } from '../../src/report/index.js';
import { readPart10, writePart10 } from '../../src/dicom/write.js';
import { makeInput, OUT_OF_RANGE_MESSAGE, STUDY_UID, T1_SERIES, type Variant } from './inputs.js';
import { dciodvfy } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'sc-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function decodePng(path: string): Promise<{ width: number; height: number; rgba: Uint8ClampedArray }> {
  const img = await loadImage(readFileSync(path));
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { width: img.width, height: img.height, rgba: ctx.getImageData(0, 0, img.width, img.height).data };
}

describe.each<Variant>(['scored', 'uncalibrated', 'out-of-range', 'not-assessable'])('summary image for a %s result', (variant) => {
  const input = makeInput(variant);
  const { dataset, png } = buildSummaryImageWithPreview(input);
  const file = join(dir, `sc-${variant}.dcm`);
  writePart10(dataset, file);
  // Set OSTEOSCREEN_ARTIFACTS=<folder> to keep the previews for people to look at.
  writeFileSync(join(process.env.OSTEOSCREEN_ARTIFACTS ?? dir, `osteoscreen-summary-${variant}.png`), png);

  it('passes dciodvfy with no errors and no warnings', () => {
    const v = dciodvfy(file);
    expect(v.out).toContain('SCImage');
    expect(v.errors, v.out).toEqual([]);
    expect(v.warnings, v.out).toEqual([]);
  });

  it('is an 8-bit RGB secondary capture in the source study and its own deterministic series', () => {
    const ds = readPart10(readFileSync(file));
    expect(ds.SOPClassUID).toBe(SECONDARY_CAPTURE_SOP_CLASS);
    expect(ds.StudyInstanceUID).toBe(STUDY_UID);
    expect(ds.SeriesInstanceUID).toBe(outputUids(STUDY_UID, makeInput('scored').model, 'summary').seriesInstanceUid);
    expect(ds.SeriesInstanceUID).not.toBe(outputUids(STUDY_UID, makeInput('scored').model, 'sr').seriesInstanceUid);
    expect(ds.PhotometricInterpretation).toBe('RGB');
    expect(ds.SamplesPerPixel).toBe(3);
    expect(ds.Rows * ds.Columns * 3).toBe(new Uint8Array(ds.PixelData[0]).length);
    expect(ds.SourceImageSequence[0].ReferencedSOPInstanceUID).toBe(input.summary!.sourceInstance!.sopInstanceUid);
    expect(ds.ImageComments).toContain('UNVERIFIED');
    expect(ds.ImageComments).toContain('paper-t1t2 1.0.0');
    expect(T1_SERIES).toBe(input.summary!.sourceInstance!.seriesInstanceUid);
  });

  it('dcmj2pnm renders it to exactly the pixels we wrote, with the ROI outline colours on the image side', async () => {
    const out = join(dir, `sc-${variant}-dcmj2pnm.png`);
    const r = spawnSync('dcmj2pnm', ['--write-png', file, out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const img = await decodePng(out);
    expect([img.width, img.height]).toEqual([dataset.Columns, dataset.Rows]);
    const rgb = new Uint8Array(dataset.PixelData[0]);
    let diff = 0;
    for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) diff += Math.abs(img.rgba[i]! - rgb[j]!) + Math.abs(img.rgba[i + 1]! - rgb[j + 1]!) + Math.abs(img.rgba[i + 2]! - rgb[j + 2]!);
    expect(diff).toBe(0);
    // L1 outline (#ff4d4d) and L4 outline (#35c5ff) appear in the left (image) panel only.
    const count = (r0: number, g0: number, b0: number, x0: number, x1: number) => {
      let n = 0;
      for (let y = 0; y < img.height; y++)
        for (let x = x0; x < x1; x++) {
          const i = 4 * (y * img.width + x);
          if (Math.abs(img.rgba[i]! - r0) < 40 && Math.abs(img.rgba[i + 1]! - g0) < 40 && Math.abs(img.rgba[i + 2]! - b0) < 40) n++;
        }
      return n;
    };
    expect(count(0xff, 0x4d, 0x4d, 0, 480)).toBeGreaterThan(200);
    expect(count(0x35, 0xc5, 0xff, 0, 480)).toBeGreaterThan(200);
    // The text panel has a lot of bright (text) pixels.
    let text = 0;
    for (let y = 0; y < img.height; y++)
      for (let x = 500; x < img.width; x++) if (img.rgba[4 * (y * img.width + x)]! > 128) text++;
    expect(text).toBeGreaterThan(5000);
    // The verdict colours (red #ff5a4a = suspected, green #3ddc84 = not suspected) in the text panel: only with a flag.
    const red = count(0xff, 0x5a, 0x4a, 500, img.width);
    const green = count(0x3d, 0xdc, 0x84, 500, img.width);
    const res = input.result;
    if (res.kind === 'scored' && res.flag !== null) expect(res.flag ? red : green).toBeGreaterThan(500);
    else expect(red + green).toBe(0);
  });

  it('says in its comments why there is no flag', () => {
    const ds = readPart10(readFileSync(file));
    if (variant === 'uncalibrated') expect(ds.ImageComments).toContain('Radscore not interpretable until calibrated for this site');
    if (variant === 'out-of-range') expect(ds.ImageComments).toContain(OUT_OF_RANGE_MESSAGE);
    if (variant === 'scored') expect(ds.ImageComments).toMatch(/^Abnormal bone mass (not )?suspected/);
  });
});

describe('summary image without a slice', () => {
  it('still renders the result text (no image available) and validates', () => {
    const input = makeInput('not-assessable');
    delete input.summary;
    const { dataset, png } = buildSummaryImageWithPreview(input);
    const file = join(dir, 'sc-noslice.dcm');
    writePart10(dataset, file);
    expect(dciodvfy(file).errors).toEqual([]);
    expect(dataset.SourceImageSequence).toBeUndefined();
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('rejects a slice whose size does not match rows x columns', () => {
    const input = makeInput('scored');
    input.summary = { ...input.summary!, rows: 10 };
    expect(() => buildSummaryImageWithPreview(input)).toThrow(/expected 10x200/);
  });
});
