import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Segmenter, N_CLASSES } from '../../src/segmentation/segmenter.js';
import { simulateStudy } from '../../src/phantom/train-data.js';

const MODEL = path.resolve('models/vertebrae-seg.onnx');
const FIXTURE = path.resolve('test/fixtures/segmentation/equivalence.bin');

describe('shipped model', () => {
  it('is small and has a model card', () => {
    expect(statSync(MODEL).size).toBeLessThan(30 * 1024 * 1024);
    const card = readFileSync('models/vertebrae-seg.md', 'utf8');
    for (const h of ['Architecture', 'Input', 'Training data', 'Training command', 'Held-out', 'Known limits', 'Licence']) expect(card).toContain(h);
  });

  it('onnxruntime-node output equals the training framework (torch) output within 1e-4', async () => {
    expect(existsSync(FIXTURE)).toBe(true);
    const buf = readFileSync(FIXTURE);
    const hl = buf.readUInt32LE(0);
    const h = JSON.parse(buf.subarray(4, 4 + hl).toString()) as { input: number[]; output: number[] };
    const nIn = h.input.reduce((a, b) => a * b, 1);
    const nOut = h.output.reduce((a, b) => a * b, 1);
    const ab = buf.buffer.slice(buf.byteOffset + 4 + hl, buf.byteOffset + 4 + hl + 4 * (nIn + nOut));
    const x = new Float32Array(ab, 0, nIn);
    const yTorch = new Float32Array(ab, 4 * nIn, nOut);
    expect(h.output[1]).toBe(N_CLASSES);
    const seg = await Segmenter.load(MODEL, { threads: 2 });
    const y = await seg.runRaw(x, h.input as [number, number, number, number]);
    let maxDiff = 0;
    for (let i = 0; i < nOut; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i] - yTorch[i]));
    console.log(`ONNX vs torch: max |diff| = ${maxDiff.toExponential(2)} over ${nOut} probabilities`);
    expect(maxDiff).toBeLessThan(1e-4);
    // and the fixture is not trivial: the sample contains vertebral body pixels
    let body = 0;
    const plane = h.output[2] * h.output[3];
    for (let p = 0; p < plane; p++) if (yTorch[plane + p] > 0.5) body++;
    expect(body).toBeGreaterThan(100);
  });

  it('loads once per process and segments deterministically', async () => {
    const a = await Segmenter.load(MODEL, { threads: 2 });
    const b = await Segmenter.load(MODEL, { threads: 2 });
    expect(a).toBe(b);
    const st = simulateStudy('test-determinism', 1, ['T1'], { matrix: 192, slices: 9, fovMm: 300, thicknessMm: 5, gapMm: 0.5 });
    const vol = { ...st.geometry, data: st.images.T1! };
    const m1 = await a.segment(vol);
    const m2 = await a.segment(vol);
    expect(Buffer.from(m1.data).equals(Buffer.from(m2.data))).toBe(true);
    expect(m1.dims).toEqual(vol.dims);
    let body = 0;
    for (const v of m1.data) if (v === 1) body++;
    expect(body).toBeGreaterThan(1000);
  });
});
