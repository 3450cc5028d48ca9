import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { logger } from '../common/log.js';
import type { AnalyseInput, AnalyseResult } from './analyse.js';

const log = logger('worker');

/** One long-lived analysis worker thread; restarted if it dies (the job in flight then fails and is retried). */
export class AnalysisWorker {
  private worker?: Worker;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: AnalyseResult) => void; reject: (e: Error) => void }>();

  constructor(private readonly config: Config) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { config: this.config } });
    w.on('message', (m: { id: number; ok: boolean; result?: AnalyseResult; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result!);
      else p.reject(new Error(m.error));
    });
    const fail = (why: string) => {
      for (const p of this.pending.values()) p.reject(new Error(why));
      this.pending.clear();
      this.worker = undefined;
    };
    w.on('error', (e) => {
      log.error('analysis worker crashed', { error: e.message });
      fail(`analysis worker crashed: ${e.message}`);
    });
    w.on('exit', (code) => {
      if (this.worker === w) fail(`analysis worker exited (${code})`);
    });
    this.worker = w;
    return w;
  }

  run(input: AnalyseInput): Promise<AnalyseResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ensure().postMessage({ id, input });
    });
  }

  /** Stop the thread; an analysis still in flight is rejected (the runner leaves its job for the next start). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('analysis worker stopped (shutdown)'));
    this.pending.clear();
    await w?.terminate();
  }
}
