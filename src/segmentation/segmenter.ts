/**
 * ONNX vertebral-body segmenter (onnxruntime-node, CPU). One `Segmenter` per process: `Segmenter.load` caches the
 * session per (model path, threads), so the model is read once.
 *
 * Model contract (see models/vertebrae-seg.md): input `image` float32 [N, 3, H, W] = sagittal slices k-1, k, k+1
 * (edge slices repeated) resampled to MODEL_SPACING mm in the canonical orientation of ./slices.ts and
 * normalised by ./normalise.ts; H, W multiples of 16. Output `probs` float32 [N, 5, H, W] (softmax) for
 * CLASS.background, CLASS.body (vertebral body, T/L), CLASS.sacrum (S1 and below), CLASS.csf (thecal sac),
 * CLASS.fat (subcutaneous fat; used with CSF for the contrast check).
 */
import * as ort from 'onnxruntime-node';
import { NotAssessable, OsteoError } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { LabelMap, Volume } from '../volume/types.js';
import { normStats, normalise } from './normalise.js';
import { argmaxToNative, modelGrid, planeFrame, toModelGrid } from './slices.js';

export const MODEL_SPACING = 1.25;
export const MODEL_CHANNELS = 3;
export const MODEL_MULTIPLE = 16;
export const CLASS = { background: 0, body: 1, sacrum: 2, csf: 3, fat: 4 } as const;
export const N_CLASSES = 5;

const log = logger('segmentation');

export interface SegmenterOptions {
  /** onnxruntime intra-op threads (default 2) */
  threads?: number;
  /** slices per inference batch (default 4): bounds memory */
  batch?: number;
}

const cache = new Map<string, Promise<Segmenter>>();

export class Segmenter {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelPath: string,
    readonly batch: number,
  ) {}

  /** Loads (once per process and path/threads) the ONNX model. */
  static load(modelPath: string, opts: SegmenterOptions = {}): Promise<Segmenter> {
    const threads = Math.max(1, Math.floor(opts.threads ?? 2));
    const batch = Math.max(1, Math.floor(opts.batch ?? 4));
    const key = `${modelPath}|${threads}|${batch}`;
    let p = cache.get(key);
    if (!p) {
      p = ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        enableCpuMemArena: true,
      })
        .then((s) => {
          log.info('model loaded', { model: modelPath, threads });
          return new Segmenter(s, modelPath, batch);
        })
        .catch((e) => {
          cache.delete(key);
          throw new OsteoError('model-load', `cannot load segmentation model ${modelPath}: ${(e as Error).message}`, 500, { cause: e });
        });
      cache.set(key, p);
    }
    return p;
  }

  /**
   * Class map (0 background, 1 vertebral body, 2 sacrum, 3 CSF, 4 subcutaneous fat) on the volume's own voxel grid.
   * Throws NotAssessable for non-sagittal or blank series.
   */
  async segment(vol: Volume): Promise<LabelMap> {
    const frame = planeFrame(vol);
    if ('error' in frame) throw new NotAssessable(frame.error);
    const st = normStats(vol.data);
    if (!(st.hi - st.lo > 1e-6 * Math.max(1, Math.abs(st.hi))) || st.foreground < 0.02) {
      throw new NotAssessable('series is blank or has no usable contrast');
    }
    const norm = normalise(vol.data, st);
    const grid = modelGrid(vol, frame, MODEL_SPACING, MODEL_MULTIPLE);
    const nz = vol.dims[2];
    const fill = (0 - st.lo) / (st.hi - st.lo);
    const stack = toModelGrid({ ...vol, data: norm }, grid, 0, nz, Math.max(-1, Math.min(3, fill)));
    const plane = grid.width * grid.height;
    const out = new Uint8Array(vol.data.length);
    for (let k0 = 0; k0 < nz; k0 += this.batch) {
      const n = Math.min(this.batch, nz - k0);
      const input = new Float32Array(n * MODEL_CHANNELS * plane);
      for (let s = 0; s < n; s++) {
        const k = k0 + s;
        for (let c = 0; c < MODEL_CHANNELS; c++) {
          const kk = Math.min(nz - 1, Math.max(0, k + c - 1));
          input.set(stack.subarray(kk * plane, (kk + 1) * plane), (s * MODEL_CHANNELS + c) * plane);
        }
      }
      const feeds = { image: new ort.Tensor('float32', input, [n, MODEL_CHANNELS, grid.height, grid.width]) };
      const res = await this.session.run(feeds);
      const probs = res.probs.data as Float32Array;
      for (let s = 0; s < n; s++) {
        argmaxToNative(probs.subarray(s * N_CLASSES * plane, (s + 1) * N_CLASSES * plane), N_CLASSES, grid, vol.dims, k0 + s, out);
      }
      res.probs.dispose?.();
    }
    return { dims: [...vol.dims], spacing: [...vol.spacing], origin: [...vol.origin], direction: [...vol.direction], data: out };
  }

  /** Raw model call (for the equivalence test): input [n,3,H,W] -> probs [n,5,H,W]. */
  async runRaw(input: Float32Array, dims: [number, number, number, number]): Promise<Float32Array> {
    const res = await this.session.run({ image: new ort.Tensor('float32', input, dims) });
    return res.probs.data as Float32Array;
  }
}
