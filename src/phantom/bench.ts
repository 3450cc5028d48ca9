/** Benchmark of phantom generation (speed target: one full study, all six series, in ≤ 2 s on 2 cores). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStudy } from './generate.js';
import { writeStudy } from './write.js';

export interface PhantomBenchResult {
  studies: number;
  /** wall-clock and CPU (user + system) milliseconds per study, generation in memory */
  generateWallMs: number;
  generateCpuMs: number;
  /** writing DICOM + NIfTI truth per study */
  writeWallMs: number;
  writeCpuMs: number;
  targetMs: number;
}

export function benchmarkPhantom(opts: { count?: number; seed?: number; subSamples?: number } = {}): PhantomBenchResult {
  const count = opts.count ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'phantom-bench-'));
  try {
    // warm-up (JIT)
    generateStudy({ seed: 999, roles: ['t1'], subSamples: 1 });
    let gw = 0, gc = 0, ww = 0, wc = 0;
    for (let i = 0; i < count; i++) {
      let t = performance.now();
      let c = process.cpuUsage();
      const st = generateStudy({ seed: opts.seed ?? 1, index: i, subSamples: opts.subSamples });
      gw += performance.now() - t;
      let d = process.cpuUsage(c);
      gc += (d.user + d.system) / 1000;
      t = performance.now();
      c = process.cpuUsage();
      writeStudy(st, dir, `s${i}`);
      ww += performance.now() - t;
      d = process.cpuUsage(c);
      wc += (d.user + d.system) / 1000;
    }
    return { studies: count, generateWallMs: gw / count, generateCpuMs: gc / count, writeWallMs: ww / count, writeCpuMs: wc / count, targetMs: 2000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
