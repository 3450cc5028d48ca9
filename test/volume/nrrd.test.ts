import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNrrd, readNrrd, readNrrdImage, readNrrdMask, serializeNrrd, writeNrrd } from '../../src/volume/nrrd.js';
import type { PixelType } from '../../src/radiomics/image.js';
import type { Geometry } from '../../src/volume/types.js';

import { RADIOMICS_BASELINE as BASE } from '../helpers/shared.js';
const tmp = mkdtempSync(join(tmpdir(), 'nrrd-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const geom: Geometry = {
  dims: [3, 4, 2],
  spacing: [0.7, 0.8, 3.3],
  origin: [-10.5, 20.25, 3.1],
  // rotated axes (columns are unit vectors)
  direction: [0, 1, 0, -1, 0, 0, 0, 0, 1],
};

const samples: Record<PixelType, number[]> = {
  int8: [-128, 127, 0, -1],
  uint8: [0, 255, 17, 1],
  int16: [-32768, 32767, -2, 1000],
  uint16: [0, 65535, 300, 1],
  int32: [-2147483648, 2147483647, -5, 7],
  uint32: [0, 4294967295, 123456, 1],
  float32: [1.5, -2.25, 3.4028234663852886e38, 1e-7],
  float64: [Math.PI, -1e300, 5e-324, -0.1],
};

describe('NRRD round trip', () => {
  for (const pt of Object.keys(samples) as PixelType[]) {
    for (const encoding of ['gzip', 'raw'] as const) {
      for (const endian of ['little', 'big'] as const) {
        it(`${pt} ${encoding} ${endian}`, () => {
          const n = 24;
          const vals = Array.from({ length: n }, (_, i) => samples[pt][i % 4]!);
          const file = join(tmp, `${pt}-${encoding}-${endian}.nrrd`);
          writeNrrd(file, geom, vals, pt, { encoding, endian });
          const v = readNrrd(file);
          expect(v.pixelType).toBe(pt);
          expect(v.geometry.dims).toEqual(geom.dims);
          expect(v.geometry.origin).toEqual(geom.origin);
          for (let c = 0; c < 3; c++) expect(v.geometry.spacing[c]).toBeCloseTo(geom.spacing[c]!, 14);
          for (let c = 0; c < 9; c++) expect(v.geometry.direction[c]).toBeCloseTo(geom.direction[c]!, 14);
          const expected = pt === 'float32' ? Array.from(Float32Array.from(vals)) : vals;
          expect(Array.from(v.data)).toEqual(expected);
          const img = readNrrdImage(file);
          expect(img.data).toBeInstanceOf(Float64Array);
          expect(Array.from(img.data)).toEqual(expected);
        });
      }
    }
  }
});

function makeHeader(lines: string[]): string {
  return ['NRRD0004', ...lines, '', ''].join('\n');
}

describe('NRRD header variants', () => {
  it('converts right-anterior-superior to LPS', () => {
    const data = Buffer.from(new Int16Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
    const hdr = makeHeader([
      'type: int16',
      'dimension: 3',
      'space: right-anterior-superior',
      'sizes: 2 2 2',
      'space directions: (-0.5,0,0) (0,-0.5,0) (0,0,2)',
      'kinds: domain domain domain',
      'endian: little',
      'encoding: gzip',
      'space origin: (10,20,30)',
    ]);
    const v = parseNrrd(Buffer.concat([Buffer.from(hdr), gzipSync(data)]));
    expect(v.geometry.origin).toEqual([-10, -20, 30]);
    expect(v.geometry.spacing).toEqual([0.5, 0.5, 2]);
    expect(v.geometry.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(v.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('falls back to spacings (no space field), big endian raw', () => {
    const buf = Buffer.alloc(8 * 4);
    for (let i = 0; i < 8; i++) buf.writeFloatBE(i * 0.5, i * 4);
    const hdr = makeHeader(['type: float', 'dimension: 3', 'sizes: 2 2 2', 'spacings: 0.5 0.6 3', 'endian: big', 'encoding: raw']);
    const v = parseNrrd(Buffer.concat([Buffer.from(hdr), buf]));
    expect(v.geometry.spacing).toEqual([0.5, 0.6, 3]);
    expect(v.geometry.origin).toEqual([0, 0, 0]);
    expect(v.geometry.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(v.data)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
  });

  it('rejects broken files', () => {
    expect(() => parseNrrd(Buffer.from('hello'))).toThrow(/magic/);
    const hdr = makeHeader(['type: int64', 'dimension: 3', 'sizes: 1 1 1', 'encoding: raw']);
    expect(() => parseNrrd(Buffer.concat([Buffer.from(hdr), Buffer.alloc(8)]))).toThrow(/type/);
    const short = makeHeader(['type: short', 'dimension: 3', 'sizes: 4 4 4', 'encoding: raw']);
    expect(() => parseNrrd(Buffer.concat([Buffer.from(short), Buffer.alloc(8)]))).toThrow(/too short/);
  });

  it('serialises deterministically (write → read → write gives the same bytes)', () => {
    const vals = Array.from({ length: 24 }, (_, i) => i * 3 - 7);
    const a = serializeNrrd(geom, vals, 'int16');
    const v = parseNrrd(a);
    const b = serializeNrrd(v.geometry, v.data, v.pixelType);
    expect(b.equals(a)).toBe(true);
  });
});

describe('reads the PyRadiomics baseline files', () => {
  const files = [
    ...readdirSync(join(BASE, 'data')).map((f) => join(BASE, 'data', f)),
    ...readdirSync(join(BASE, 'filtered')).map((f) => join(BASE, 'filtered', f)),
  ].filter((f) => f.endsWith('.nrrd'));

  it('finds the files', () => expect(files.length).toBeGreaterThanOrEqual(12));

  for (const f of files) {
    it(f.slice(BASE.length + 1), () => {
      const v = readNrrd(f);
      const hdr = readFileSync(f).subarray(0, 1000).toString('latin1');
      const sizes = /sizes: (\d+) (\d+) (\d+)/.exec(hdr)!;
      expect(v.geometry.dims).toEqual([Number(sizes[1]), Number(sizes[2]), Number(sizes[3])]);
      expect(v.data.length).toBe(v.geometry.dims[0] * v.geometry.dims[1] * v.geometry.dims[2]);
      for (const x of v.data) if (!Number.isFinite(x)) throw new Error('non-finite value');
      if (f.includes('breast1') || f.includes('filtered')) {
        expect(v.geometry.dims).toEqual([45, 120, 21]);
        expect(v.geometry.spacing[0]).toBeCloseTo(0.664062, 6);
        expect(v.geometry.spacing[2]).toBeCloseTo(2.1, 12);
        expect(v.geometry.origin[0]).toBeCloseTo(-116.54304, 10);
      }
      if (f.includes('brain1')) {
        // negative y space direction → direction column 1 points to -y, spacing stays positive
        expect(v.geometry.direction[4]).toBe(-1);
        expect(v.geometry.spacing[1]).toBeCloseTo(0.78125, 12);
      }
    });
  }

  it('image and label of breast1 match in geometry; label contains label 1', () => {
    const img = readNrrdImage(join(BASE, 'data/breast1_image.nrrd'));
    const lab = readNrrdMask(join(BASE, 'data/breast1_label.nrrd'));
    expect(img.pixelType).toBe('int16');
    expect(lab.dims).toEqual(img.dims);
    let roi = 0;
    for (const x of lab.data) if (x === 1) roi++;
    expect(roi).toBeGreaterThan(100);
    let min = Infinity;
    let max = -Infinity;
    for (const x of img.data) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    expect(min).toBeGreaterThanOrEqual(-32768);
    expect(max).toBeGreaterThan(min);
  });
});

