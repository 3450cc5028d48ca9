import type { Config } from '../config/schema.js';
import type { JobResultInput } from '../store/job-result.js';
import type { Store, JobRow } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';

const log = logger('pipeline');

/** What processing a study produced. Expected outcomes are results, not exceptions. */
export interface JobOutcome {
  state: 'done' | 'not-assessable';
  reason: string | null;
  selection?: unknown;
  segmentation?: unknown;
  /** The stored result record (src/store/job-result.ts). */
  result?: JobResultInput;
  timings?: Record<string, number>;
}

/** Processes one claimed job; throwing means an unexpected failure (retried up to pipeline.maxAttempts). */
export type StudyProcessor = (job: JobRow) => Promise<JobOutcome>;

/** Seams for in-process tests; the service uses the defaults. */
export interface PipelineOptions {
  /** Monotonic clock (ms) timing the series' quiet period (default performance.now). */
  monotonicNow?: () => number;
}

/**
 * Series stability + job queue worker: polls the index, marks quiet series stable, queues one job per study
 * whose series are all stable, claims queued jobs and runs them (bounded concurrency).
 */
export class Pipeline {
  private timer?: NodeJS.Timeout;
  private running = new Map<number, Promise<void>>();
  /** Last instance per receiving series on the monotonic clock (wall-clock jumps must not complete or stall a series). */
  private lastSeen = new Map<string, number>();
  private stopping = false;
  private ticking = false;
  private readonly monotonicNow: () => number;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly processor: StudyProcessor,
    opts: PipelineOptions = {},
  ) {
    this.monotonicNow = opts.monotonicNow ?? (() => performance.now());
  }

  start(): void {
    const recovered = this.store.index.recoverInterruptedJobs();
    if (recovered) log.warn('re-queued jobs interrupted by a restart', { jobs: recovered });
    this.timer = setInterval(() => void this.tick(), this.config.pipeline.pollMs);
    this.timer.unref();
    void this.tick();
  }

  /** Called for every stored instance: restarts the series' quiet period. */
  touch(seriesUid: string): void {
    this.lastSeen.set(seriesUid, this.monotonicNow());
  }

  /**
   * Receiving series quiet for pipeline.stableSeconds, timed on the monotonic clock. A series first seen in this
   * process (received before a restart) gets a full quiet period from now; one forced by an admin is due at once.
   */
  private quietSeries(): string[] {
    const stableMs = this.config.pipeline.stableSeconds * 1000;
    const now = this.monotonicNow();
    const due: string[] = [];
    for (const s of this.store.index.receivingSeries()) {
      if (s.last_received === 0) {
        due.push(s.series_uid);
        continue;
      }
      let seen = this.lastSeen.get(s.series_uid);
      if (seen === undefined) this.lastSeen.set(s.series_uid, (seen = now));
      if (now - seen >= stableMs) due.push(s.series_uid);
    }
    for (const uid of due) this.lastSeen.delete(uid);
    return due;
  }

  /** One pass: stability, queueing, claiming. Safe to call at any time. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const { series, studies } = this.store.index.markSeriesStable(this.quietSeries());
      for (const s of series) {
        this.metrics.seriesCompleted.inc();
        this.metrics.stageSeconds.observe({ stage: 'receive_to_stable' }, Math.max(0, (Date.now() - s.first_received) / 1000));
        log.info('series stable', { seriesUid: s.series_uid, instances: s.instances });
      }
      for (const st of studies) {
        const job = this.store.index.enqueueJob(st, 'stable');
        log.info('job queued', { studyUid: st, job: job.id });
      }
      while (this.running.size < this.config.pipeline.concurrency && !this.stopping) {
        const job = this.store.index.claimJob();
        if (!job) break;
        const p = this.run(job).finally(() => this.running.delete(job.id));
        this.running.set(job.id, p);
      }
    } catch (e) {
      log.error('pipeline tick failed', { error: errorMessage(e) });
    } finally {
      this.ticking = false;
    }
  }

  private async run(job: JobRow): Promise<void> {
    const t0 = Date.now();
    log.info('job started', { job: job.id, studyUid: job.study_uid, attempt: job.attempts });
    try {
      const out = await this.processor(job);
      this.store.index.transitionJob(job.id, out.state, out.reason, {
        selection: out.selection === undefined ? undefined : JSON.stringify(out.selection),
        segmentation: out.segmentation === undefined ? undefined : JSON.stringify(out.segmentation),
        result: out.result === undefined ? undefined : JSON.stringify(out.result),
        timings: out.timings === undefined ? undefined : JSON.stringify(out.timings),
      });
      this.metrics.jobsFinished.inc({ state: out.state });
      log.info('job finished', { job: job.id, studyUid: job.study_uid, state: out.state, reason: out.reason ?? undefined, seconds: (Date.now() - t0) / 1000 });
    } catch (e) {
      const msg = errorMessage(e);
      if (this.stopping) {
        log.warn('job interrupted by shutdown; it re-runs on the next start', { job: job.id });
        return;
      }
      if (job.attempts < this.config.pipeline.maxAttempts) {
        this.store.index.transitionJob(job.id, 'queued', `attempt ${job.attempts} failed: ${msg}; retrying`);
        log.warn('job failed, will retry', { job: job.id, attempt: job.attempts, error: msg });
      } else {
        this.store.index.transitionJob(job.id, 'failed', `failed after ${job.attempts} attempts: ${msg}`);
        this.metrics.jobsFinished.inc({ state: 'failed' });
        log.error('job failed', { job: job.id, studyUid: job.study_uid, error: msg });
      }
    }
  }

  get busy(): number {
    return this.running.size;
  }

  /** Resolves when the jobs running now have finished (recorded their outcome). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /** Stop claiming; wait up to `graceMs` for running jobs (unfinished ones are re-queued on the next start). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.race([Promise.allSettled([...this.running.values()]), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }
}
