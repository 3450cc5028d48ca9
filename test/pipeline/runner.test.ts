/**
 * The Pipeline (src/pipeline/runner.ts) in-process, without a running service: series stability on an injected
 * monotonic clock, one job per complete study, claiming with bounded concurrency, retries, crash recovery.
 * The processor is a fake whose jobs finish when the test says so; ticks are driven by the test (no timers).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics, type Metrics } from '../../src/common/metrics.js';
import { Pipeline, type JobOutcome } from '../../src/pipeline/runner.js';
import type { JobRow, Store } from '../../src/store/index.js';
import { FakeClock, memoryStore, receive } from '../helpers/memory-store.js';

const HOUR = 3_600_000;

/** A processor whose calls wait until the test resolves or rejects them. */
class FakeProcessor {
  calls: { job: JobRow; resolve: (o: JobOutcome) => void; reject: (e: Error) => void }[] = [];
  readonly fn = (job: JobRow) => new Promise<JobOutcome>((resolve, reject) => this.calls.push({ job, resolve, reject }));
  last() {
    return this.calls[this.calls.length - 1]!;
  }
}

let wall: FakeClock;
let mono: FakeClock;
let store: Store & { clock: FakeClock };
let metrics: Metrics;
let proc: FakeProcessor;
let pipeline: Pipeline | undefined;

function make(opts: { stableSeconds?: number; concurrency?: number; maxAttempts?: number } = {}): Pipeline {
  const config = configSchema.parse({ pipeline: { stableSeconds: opts.stableSeconds ?? 5, pollMs: HOUR, concurrency: opts.concurrency ?? 1, maxAttempts: opts.maxAttempts ?? 3 } });
  pipeline = new Pipeline(config, store, metrics, proc.fn, { monotonicNow: mono.now });
  return pipeline;
}

/** The SCP's path for one instance: indexed, then the pipeline is told (restarting the quiet period). */
function arrive(p: Pipeline, study: string, series: string): void {
  receive(store, study, series);
  p.touch(series);
}

/** Run every queued microtask (a finished fake job records its outcome in microtasks + synchronous SQLite). */
const flush = () => new Promise<void>((r) => setImmediate(r));

const done: JobOutcome = { state: 'done', reason: null, result: { kind: 'scored', reason: null, score: 1.5, cutoff: 0.5, flag: true }, timings: { segment: 2 } };

beforeEach(() => {
  wall = new FakeClock();
  mono = new FakeClock(1000);
  store = memoryStore(wall);
  metrics = createMetrics();
  proc = new FakeProcessor();
});

afterEach(async () => {
  // Let any fake job still waiting end, then stop (stop's grace timer is unref'd and short here).
  for (const c of proc.calls) c.resolve(done);
  await pipeline?.stop(0);
  pipeline = undefined;
  store.close();
});

describe('Pipeline: series stability', () => {
  it('a series is complete after stableSeconds without a new instance on the monotonic clock, not before; one job is queued', async () => {
    const p = make({ stableSeconds: 5 });
    p.start();
    arrive(p, '1.1', '1.1.1');
    mono.advance(3000);
    arrive(p, '1.1', '1.1.1'); // restarts the quiet period
    mono.advance(4999);
    await p.tick();
    expect(store.index.getSeries('1.1.1')!.state).toBe('receiving');
    expect(store.index.jobsOfStudy('1.1')).toEqual([]);
    mono.advance(1);
    await p.tick();
    expect(store.index.getSeries('1.1.1')!.state).toBe('stable');
    expect(store.index.jobsOfStudy('1.1').map((j) => j.trigger)).toEqual(['stable']);
    expect(metrics.seriesCompleted.get()).toBe(1);
    expect(proc.calls.map((c) => c.job.study_uid)).toEqual(['1.1']);
    await p.tick();
    expect(store.index.jobsOfStudy('1.1')).toHaveLength(1);
  });

  it('wall-clock jumps do not complete or stall a series: only the monotonic clock counts', async () => {
    const p = make({ stableSeconds: 5 });
    p.start();
    arrive(p, '1.2', '1.2.1');
    wall.advance(2 * HOUR); // forward jump during a short transfer pause
    mono.advance(1500);
    await p.tick();
    expect(store.index.getSeries('1.2.1')!.state).toBe('receiving');
    arrive(p, '1.2', '1.2.1');
    wall.advance(-2 * HOUR); // and back
    mono.advance(5000);
    await p.tick();
    expect(store.index.getSeries('1.2.1')!.state).toBe('stable');
    expect(store.index.jobsOfStudy('1.2')).toHaveLength(1);
  });

  it('a study is queued once, when its last series is complete', async () => {
    const p = make({ stableSeconds: 5 });
    p.start();
    arrive(p, '1.3', '1.3.1');
    mono.advance(3000);
    arrive(p, '1.3', '1.3.2');
    mono.advance(2000);
    await p.tick();
    expect([store.index.getSeries('1.3.1')!.state, store.index.getSeries('1.3.2')!.state]).toEqual(['stable', 'receiving']);
    expect(store.index.jobsOfStudy('1.3')).toEqual([]);
    mono.advance(3000);
    await p.tick();
    expect(store.index.jobsOfStudy('1.3')).toHaveLength(1);
    expect(proc.calls).toHaveLength(1);
  });

  it('a series received before a restart (never touched by this process) gets a full quiet period from first sight', async () => {
    receive(store, '1.4', '1.4.1'); // indexed by an earlier process
    wall.advance(10 * HOUR);
    const p = make({ stableSeconds: 5 });
    p.start();
    expect(store.index.getSeries('1.4.1')!.state).toBe('receiving');
    mono.advance(4999);
    await p.tick();
    expect(store.index.getSeries('1.4.1')!.state).toBe('receiving');
    mono.advance(1);
    await p.tick();
    expect(store.index.getSeries('1.4.1')!.state).toBe('stable');
  });

  it('a series forced complete by an admin is due at the next pass', async () => {
    const p = make({ stableSeconds: 60 });
    p.start();
    arrive(p, '1.5', '1.5.1');
    expect(store.index.forceStable('1.5.1')).toBe('1.5');
    await p.tick();
    expect(store.index.getSeries('1.5.1')!.state).toBe('stable');
    expect(proc.calls).toHaveLength(1);
  });
});

describe('Pipeline: claiming, outcomes, retries', () => {
  it('runs at most `concurrency` jobs at once, oldest first, and records each outcome on the job and the study', async () => {
    const p = make({ stableSeconds: 0, concurrency: 2 });
    for (const s of ['2.1', '2.2', '2.3']) arrive(p, s, `${s}.1`);
    p.start();
    expect(proc.calls.map((c) => c.job.study_uid)).toEqual(['2.1', '2.2']);
    expect(p.busy).toBe(2);
    await p.tick();
    expect(proc.calls).toHaveLength(2);
    proc.calls[1]!.resolve({ state: 'not-assessable', reason: 'no sagittal T2' });
    await flush();
    expect(p.busy).toBe(1);
    expect(store.index.latestJob('2.2')).toMatchObject({ state: 'not-assessable', reason: 'no sagittal T2' });
    expect(store.index.getStudy('2.2')).toMatchObject({ state: 'not-assessable', reason: 'no sagittal T2' });
    await p.tick();
    expect(proc.calls.map((c) => c.job.study_uid)).toEqual(['2.1', '2.2', '2.3']);
    proc.calls[0]!.resolve(done);
    proc.calls[2]!.resolve(done);
    await p.idle();
    const j = store.index.latestJob('2.1')!;
    expect([j.state, JSON.parse(j.result!), JSON.parse(j.timings!)]).toEqual(['done', done.result, { segment: 2 }]);
    // The result's flag, score, cut-off as columns (filters and counts in SQL).
    expect([j.flag, j.score, j.cutoff, j.model_version]).toEqual([1, 1.5, 0.5, null]);
    expect(metrics.jobsFinished.get({ state: 'done' })).toBe(2);
    expect(metrics.jobsFinished.get({ state: 'not-assessable' })).toBe(1);
    expect(p.busy).toBe(0);
  });

  it('does not claim a study while new instances arrive for it', async () => {
    const p = make({ stableSeconds: 5 });
    p.start();
    arrive(p, '2.4', '2.4.1');
    mono.advance(5000);
    await p.tick(); // queued and claimed
    expect(proc.calls).toHaveLength(1);
    arrive(p, '2.4', '2.4.1'); // re-opened while the job runs
    proc.last().resolve(done);
    await p.idle();
    expect(store.index.getStudy('2.4')!.state).toBe('receiving');
    await p.tick();
    expect(proc.calls).toHaveLength(1);
    mono.advance(5000);
    await p.tick();
    expect(proc.calls).toHaveLength(2);
    expect(store.index.jobsOfStudy('2.4')).toHaveLength(2);
  });

  it('an unexpected failure is retried up to maxAttempts, then the job fails with the reason', async () => {
    const p = make({ stableSeconds: 0, maxAttempts: 3 });
    arrive(p, '2.5', '2.5.1');
    p.start();
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(proc.calls).toHaveLength(attempt);
      expect(proc.last().job.attempts).toBe(attempt);
      proc.last().reject(new Error(`boom ${attempt}`));
      await p.idle();
      const j = store.index.latestJob('2.5')!;
      if (attempt < 3) expect([j.state, j.reason]).toEqual(['queued', `attempt ${attempt} failed: boom ${attempt}; retrying`]);
      await p.tick();
    }
    expect(proc.calls).toHaveLength(3);
    expect(store.index.latestJob('2.5')).toMatchObject({ state: 'failed', reason: 'failed after 3 attempts: boom 3', attempts: 3 });
    expect(store.index.getStudy('2.5')!.state).toBe('failed');
    expect(metrics.jobsFinished.get({ state: 'failed' })).toBe(1);
    expect(store.index.jobsOfStudy('2.5')).toHaveLength(1);
  });
});

describe('Pipeline: crash recovery and shutdown', () => {
  it('after a crash (a job left processing) the next start re-queues it and runs it again as attempt 2', async () => {
    receive(store, '3.1', '3.1.1');
    store.index.markSeriesStable(['3.1.1']);
    const job = store.index.enqueueJob('3.1', 'stable');
    expect(store.index.claimJob()!.id).toBe(job.id); // the process that claimed it was killed -9
    const p = make();
    p.start();
    expect(proc.calls.map((c) => [c.job.id, c.job.attempts])).toEqual([[job.id, 2]]);
    proc.last().resolve(done);
    await p.idle();
    expect(store.index.getJob(job.id)).toMatchObject({ state: 'done', attempts: 2 });
    expect(store.index.jobsOfStudy('3.1')).toHaveLength(1);
  });

  it('a job interrupted by shutdown is not counted as a failed attempt: it stays processing and re-runs on the next start', async () => {
    const p = make({ stableSeconds: 0, maxAttempts: 1 });
    arrive(p, '3.2', '3.2.1');
    p.start();
    const call = proc.last();
    const stopped = p.stop(60_000);
    call.reject(new Error('analysis worker exited (1)')); // the worker is terminated on shutdown
    await stopped;
    expect(store.index.latestJob('3.2')!.state).toBe('processing');
    await p.tick(); // a stopped pipeline claims nothing
    expect(proc.calls).toHaveLength(1);
    const again = make({ stableSeconds: 0, maxAttempts: 2 });
    again.start();
    expect(proc.calls).toHaveLength(2);
    expect(proc.last().job).toMatchObject({ id: call.job.id, attempts: 2 });
  });
});
