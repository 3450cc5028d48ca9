/**
 * The disk's own floor for the ingest benchmark: how many instances per second this file system makes durable
 * the way the store does it (write a new file of the instance's size, fsync it, rename it into a folder, fsync the
 * folder: src/store/group-commit.ts), from `threads` threads at once, with nothing else going on. The receiver
 * cannot beat it; a stop-and-wait sender waits at least its latency per instance. Also reported: the CPU time per
 * instance those system calls cost (all threads of this process).
 */
import { Worker } from 'node:worker_threads';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

/** The loop of one thread (plain JavaScript: runs from the sources and from dist alike). */
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, writeSync, fsyncSync, closeSync, renameSync } = require('node:fs');
const path = require('node:path');
const { dir, id, bytes, ms } = workerData;
const buf = Buffer.alloc(bytes, 7);
const lat = [];
const t0 = performance.now();
for (let n = 0; performance.now() - t0 < ms; n++) {
  const s = performance.now();
  const tmp = path.join(dir, 'tmp', id + '-' + n);
  const fd = openSync(tmp, 'w');
  for (let o = 0; o < bytes; ) o += writeSync(fd, buf, o, bytes - o);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path.join(dir, 'final', id + '-' + n));
  const d = openSync(path.join(dir, 'final'), 'r');
  fsyncSync(d);
  closeSync(d);
  lat.push(performance.now() - s);
}
parentPort.postMessage(lat);
`;

export interface DiskFloor {
  threads: number;
  perSecond: number;
  p50Ms: number;
  cpuMsPerInstance: number;
}

/** Durable creates of `bytes`-byte files for `ms` milliseconds from `threads` threads, in a folder under `root`. */
export async function diskFloor(root: string, bytes: number, threads: number, ms = 3000): Promise<DiskFloor> {
  const dir = mkdtempSync(path.join(root, 'disk-floor-'));
  mkdirSync(path.join(dir, 'tmp'));
  mkdirSync(path.join(dir, 'final'));
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lats = await Promise.all(
      Array.from({ length: threads }, (_, id) => {
        const w = new Worker(LOOP, { eval: true, workerData: { dir, id, bytes, ms } });
        return new Promise<number[]>((resolve, reject) => {
          w.once('message', (lat: number[]) => resolve(lat));
          w.once('error', reject);
        }).finally(() => w.terminate());
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const all = lats.flat().sort((a, b) => a - b);
    return {
      threads,
      perSecond: all.length / seconds,
      p50Ms: all[all.length >> 1] ?? NaN,
      cpuMsPerInstance: (cpu.user + cpu.system) / 1000 / Math.max(1, all.length),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
