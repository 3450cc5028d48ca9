/** The per-study job queue in the SQLite index (src/store/index-db.ts): state transitions, queueing, claiming, recovery. */
import { describe, it, expect, beforeEach } from 'vitest';
import { JOB_STATES, JOB_TRANSITIONS, type JobState, type Store } from '../../src/store/index.js';
import { memoryStore, receive } from '../helpers/memory-store.js';

let store: Store & { clock: { advance(ms: number): number; t: number } };
beforeEach(() => {
  store = memoryStore();
});

/** A study with one stable series (ready to be queued and claimed). */
function stableStudy(uid: string): string {
  receive(store, uid, `${uid}.1`);
  store.index.markSeriesStable([`${uid}.1`]);
  return uid;
}

let studies = 0;
function jobIn(state: JobState): number {
  const st = stableStudy(`1.2.${++studies}`);
  const job = store.index.enqueueJob(st, 'test');
  if (state === 'queued') return job.id;
  expect(store.index.claimJob()?.id).toBe(job.id);
  if (state !== 'processing') store.index.transitionJob(job.id, state, `to ${state}`);
  expect(store.index.getJob(job.id)!.state).toBe(state);
  return job.id;
}

describe('job state transitions', () => {
  it('allows exactly the transitions of JOB_TRANSITIONS and refuses every other pair', () => {
    let legal = 0;
    for (const from of JOB_STATES) {
      for (const to of JOB_STATES) {
        store = memoryStore(); // one job per store: claimJob takes the oldest queued job
        const id = jobIn(from);
        const allowed = JOB_TRANSITIONS[from].includes(to);
        if (allowed) {
          legal++;
          store.index.transitionJob(id, to, 'x');
          expect(store.index.getJob(id)!.state, `${from} -> ${to}`).toBe(to);
        } else {
          expect(() => store.index.transitionJob(id, to, 'x'), `${from} -> ${to}`).toThrow(`illegal transition ${from} -> ${to}`);
          expect(store.index.getJob(id)!.state).toBe(from);
        }
      }
    }
    expect(legal).toBe(Object.values(JOB_TRANSITIONS).flat().length);
    expect(() => store.index.transitionJob(99_999, 'done', null)).toThrow('job 99999 not found');
  });

  it('finished states stamp finished_at and mirror the study; results are kept', () => {
    const id = jobIn('processing');
    const t = store.clock.advance(5000);
    store.index.transitionJob(id, 'done', null, { result: '{"score":1}', timings: '{"segment":2}' });
    const j = store.index.getJob(id)!;
    expect([j.state, j.finished_at, j.result, j.timings]).toEqual(['done', t, '{"score":1}', '{"segment":2}']);
    expect(store.index.getStudy(j.study_uid)!.state).toBe('done');
    // Back to queued (a retry) is not final.
    const r = jobIn('processing');
    store.index.transitionJob(r, 'queued', 'retrying');
    expect(store.index.getJob(r)!.finished_at).toBeNull();
    expect(store.index.getStudy(store.index.getJob(r)!.study_uid)).toMatchObject({ state: 'queued', reason: 'retrying' });
  });

  it('the study does not mirror a finishing job while new instances re-opened one of its series', () => {
    const st = stableStudy('1.9.9');
    const job = store.index.enqueueJob(st, 'stable');
    store.index.claimJob();
    receive(store, st, '1.9.9.2'); // a new series arrives while the job runs
    store.index.transitionJob(job.id, 'done', null);
    expect(store.index.getStudy(st)!.state).toBe('receiving');
  });
});

describe('job queue', () => {
  it('enqueueJob keeps one queued job per study (a queued job always sees the latest series)', () => {
    const st = stableStudy('1.3.1');
    const a = store.index.enqueueJob(st, 'stable');
    const b = store.index.enqueueJob(st, 'rerun');
    expect(b.id).toBe(a.id);
    expect(store.index.jobsOfStudy(st)).toHaveLength(1);
    expect(store.index.getStudy(st)!.state).toBe('queued');
    // Once it is processing, a new request queues a second job.
    store.index.claimJob();
    expect(store.index.enqueueJob(st, 'rerun').id).not.toBe(a.id);
  });

  it('claimJob takes the oldest queued job, atomically, counting the attempt', () => {
    const a = store.index.enqueueJob(stableStudy('1.4.1'), 'stable');
    const b = store.index.enqueueJob(stableStudy('1.4.2'), 'stable');
    const t = store.clock.advance(1000);
    const c1 = store.index.claimJob()!;
    expect([c1.id, c1.state, c1.attempts, c1.started_at]).toEqual([a.id, 'processing', 1, t]);
    expect(store.index.claimJob()!.id).toBe(b.id);
    expect(store.index.claimJob()).toBeUndefined();
  });

  it('claimJob skips a study with a series still receiving, and a study that already has a job processing', () => {
    const open = '1.5.1';
    stableStudy(open);
    const j1 = store.index.enqueueJob(open, 'stable');
    receive(store, open, '1.5.1.2'); // second series still arriving
    expect(store.index.claimJob()).toBeUndefined();
    store.index.markSeriesStable(['1.5.1.2']);
    expect(store.index.claimJob()!.id).toBe(j1.id);
    const j2 = store.index.enqueueJob(open, 'rerun');
    expect(store.index.claimJob(), 'second job of a study while its first one runs').toBeUndefined();
    store.index.transitionJob(j1.id, 'done', null);
    expect(store.index.claimJob()!.id).toBe(j2.id);
  });

  it('recoverInterruptedJobs re-queues processing jobs (a crash), leaving finished and queued ones alone', () => {
    const done = jobIn('done');
    const running = jobIn('processing');
    const queued = jobIn('queued');
    expect(store.index.recoverInterruptedJobs()).toBe(1);
    expect(store.index.getJob(running)).toMatchObject({ state: 'queued', reason: 'interrupted by restart; re-queued', attempts: 1 });
    expect(store.index.getStudy(store.index.getJob(running)!.study_uid)!.state).toBe('queued');
    expect(store.index.getJob(done)!.state).toBe('done');
    expect(store.index.getJob(queued)!.state).toBe('queued');
    expect(store.index.recoverInterruptedJobs()).toBe(0);
    // The re-queued job is claimed again as attempt 2.
    const again = [store.index.claimJob()!, store.index.claimJob()!].find((j) => j.id === running)!;
    expect(again.attempts).toBe(2);
  });
});
