/**
 * Parallel extraction over worker threads. The enabled image types are split into jobs (Original + shape, one job
 * per LoG sigma, the wavelet bands, box-sigma, noise, …). The ROI is prepared once on the calling thread (checks,
 * normalisation, resampling, resegmentation); each job computes its features on a worker from the shared voxel
 * buffers, and the results are merged in PyRadiomics order. Values are identical to the sequential run.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { OsteoError } from '../common/errors.js';
import { extractFeatures, imageTypeNeeded, prepareRoi, type ExtractOptions, type ExtractResult, type PreparedRoi } from './extractor.js';
import type { RImage, RMask } from './image.js';
import { RoiError } from './preprocess.js';
import type { RadiomicsSettings } from './settings.js';
import type { WorkerJob } from './worker.js';

export interface RadiomicsPool {
  readonly size: number;
  extract(image: RImage, mask: RMask, settings: RadiomicsSettings, opts?: ExtractOptions): Promise<ExtractResult>;
  close(): Promise<void>;
}

/** Split settings into jobs; the first job owns the shape classes (computed once). */
export function splitJobs(settings: RadiomicsSettings, only?: string[]): RadiomicsSettings[] {
  const jobs: RadiomicsSettings[] = [];
  for (const [type, o] of Object.entries(settings.imageType)) {
    const parts = type === 'LoG' ? ((o.sigma as number[] | undefined) ?? []).map((s) => ({ ...o, sigma: [s] })) : [o];
    for (const p of parts) {
      const sub: RadiomicsSettings = { imageType: { [type]: p }, featureClass: { ...settings.featureClass }, setting: settings.setting };
      if (imageTypeNeeded(type, sub, only)) jobs.push(sub);
    }
  }
  const wantsShape = 'shape' in settings.featureClass || 'shape2D' in settings.featureClass;
  const shapeOwner = jobs.findIndex((j) => 'Original' in j.imageType);
  jobs.forEach((j, k) => {
    if (k !== (shapeOwner >= 0 ? shapeOwner : 0)) {
      delete j.featureClass.shape;
      delete j.featureClass.shape2D;
    }
  });
  if (!jobs.length && wantsShape) {
    jobs.push({ imageType: {}, featureClass: { shape: settings.featureClass.shape, shape2D: settings.featureClass.shape2D }, setting: settings.setting });
    if (!('shape' in settings.featureClass)) delete jobs[0]!.featureClass.shape;
    if (!('shape2D' in settings.featureClass)) delete jobs[0]!.featureClass.shape2D;
  }
  return jobs;
}

/** Relative cost estimate used to start expensive jobs first. */
function cost(s: RadiomicsSettings): number {
  const t = Object.keys(s.imageType)[0];
  return t === 'Wavelet' ? 3 : t === 'LoG' ? 2 : t === 'Original' ? 1.5 : 1;
}

export function mergeResults(parts: ExtractResult[]): ExtractResult {
  const features: Record<string, number | null> = {};
  const nullFeatures: Record<string, string> = {};
  const diagnostics: Record<string, unknown> = { ...(parts[0]?.diagnostics ?? {}) };
  let timing = 0;
  for (const p of parts) {
    Object.assign(features, p.features);
    Object.assign(nullFeatures, p.diagnostics.nullFeatures as Record<string, string> | undefined);
    for (const [k, v] of Object.entries(p.diagnostics)) {
      if (!k.startsWith('diagnostics_Timing_')) continue;
      if (k === 'diagnostics_Timing_total_s') timing += v as number;
      else diagnostics[k] = ((diagnostics[k] as number | undefined) ?? 0) + (p === parts[0] ? 0 : (v as number));
    }
  }
  diagnostics['diagnostics_Timing_cpu_s'] = timing;
  diagnostics.nullFeatures = nullFeatures;
  return { features, diagnostics };
}

type AnyTyped = RImage['data'] | RMask['data'] | Uint8Array;
function toShared<T extends AnyTyped>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  (out as unknown as { set(x: ArrayLike<number>): void }).set(a);
  return out;
}

function spawn(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from sources (tests, tsx): load the TypeScript worker through tsx.
    const url = new URL('./worker.ts', self).href;
    return new Worker(`import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(url)}, ${JSON.stringify(self)}))`, { eval: true });
  }
  return new Worker(new URL('./worker.js', self));
}

function rebuildError(e: { name?: string; message: string; code?: string; httpStatus?: number }): Error {
  if (e.code === 'radiomics-roi') return new RoiError(e.message);
  if (e.code) return new OsteoError(e.code, e.message, e.httpStatus ?? 500);
  return new Error(e.message);
}

interface Pending {
  resolve: (r: ExtractResult) => void;
  reject: (e: Error) => void;
  onProgress?: (name: string) => void;
}

/**
 * A pool of `workers` threads (default: number of CPUs). With 1 worker everything runs on the calling thread.
 * Close it when done; idle workers do not keep the process alive.
 */
export function createRadiomicsPool(opts: { workers?: number } = {}): RadiomicsPool {
  const size = Math.max(1, Math.floor(opts.workers ?? cpus().length));
  const workers: { w: Worker; busy: boolean }[] = [];
  const pending = new Map<number, Pending>();
  const queue: { job: WorkerJob; p: Pending }[] = [];
  let nextId = 1;
  let closed = false;

  const pump = () => {
    while (queue.length) {
      let slot = workers.find((x) => !x.busy);
      if (!slot && workers.length < size) slot = addWorker();
      if (!slot) return;
      const { job, p } = queue.shift()!;
      slot.busy = true;
      slot.w.ref();
      pending.set(job.id, p);
      (p as Pending & { slot?: typeof slot }).slot = slot;
      slot.w.postMessage(job);
    }
  };

  const addWorker = () => {
    const slot = { w: spawn(), busy: false };
    slot.w.unref();
    slot.w.on('message', (m: { id: number; progress?: string; result?: ExtractResult; error?: { message: string; code?: string } }) => {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.progress !== undefined) {
        p.onProgress?.(m.progress);
        return;
      }
      pending.delete(m.id);
      slot.busy = false;
      slot.w.unref();
      if (m.error) p.reject(rebuildError(m.error));
      else p.resolve(m.result!);
      pump();
    });
    slot.w.on('error', (err) => {
      // A crashed worker fails its job; it is replaced on the next pump.
      for (const [id, p] of pending) {
        if ((p as Pending & { slot?: unknown }).slot === slot) {
          pending.delete(id);
          p.reject(err);
        }
      }
      const k = workers.indexOf(slot);
      if (k >= 0) workers.splice(k, 1);
      pump();
    });
    workers.push(slot);
    return slot;
  };

  const run = (job: Omit<WorkerJob, 'id'>, onProgress?: (name: string) => void) =>
    new Promise<ExtractResult>((resolve, reject) => {
      if (closed) return reject(new Error('radiomics pool is closed'));
      queue.push({ job: { ...job, id: nextId++ }, p: { resolve, reject, onProgress } });
      pump();
    });

  return {
    size,
    async extract(image, mask, settings, o = {}) {
      const jobs = splitJobs(settings, o.only);
      if (size <= 1 || jobs.length <= 1) return extractFeatures(image, mask, settings, o);
      const t0 = performance.now();
      // Preprocess once (mask checks, normalisation, resampling, resegmentation), then share the voxel data
      // with the workers instead of copying it for every job.
      const prep = prepareRoi(image, mask, settings);
      const shapeMask = toShared(prep.shapeMask);
      const prepared: PreparedRoi = {
        ...prep,
        image: { ...prep.image, data: toShared(prep.image.data) },
        shapeMask,
        featMask: prep.featMask === prep.shapeMask ? shapeMask : toShared(prep.featMask),
      };
      let done = 0;
      const onProgress = (name: string) => o.onImage?.(name, ++done);
      const order = jobs.map((s, k) => ({ s, k })).sort((a, b) => cost(b.s) - cost(a.s));
      const results: ExtractResult[] = new Array(jobs.length);
      await Promise.all(order.map(async ({ s, k }) => (results[k] = await run({ prepared, settings: s, only: o.only }, onProgress))));
      const merged = mergeResults(results);
      merged.diagnostics['diagnostics_Timing_total_s'] = (performance.now() - t0) / 1000;
      return merged;
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((x) => x.w.terminate()));
      workers.length = 0;
    },
  };
}

/** One-off parallel extraction (creates and closes a pool). */
export async function extractFeaturesParallel(
  image: RImage,
  mask: RMask,
  settings: RadiomicsSettings,
  opts: ExtractOptions & { workers?: number } = {},
): Promise<ExtractResult> {
  const pool = createRadiomicsPool({ workers: opts.workers });
  try {
    return await pool.extract(image, mask, settings, opts);
  } finally {
    await pool.close();
  }
}
