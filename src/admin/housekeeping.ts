import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../config/schema.js';
import { diskFree, type Store } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { logger } from '../common/log.js';
import { errorMessage, OsteoError } from '../common/errors.js';
import { runRetention } from './retention.js';

const log = logger('housekeeping');

export const HOUSEKEEPING_TASKS = ['retention', 'outbox', 'vacuum', 'summary'] as const;
export type HousekeepingTask = (typeof HOUSEKEEPING_TASKS)[number];

export interface HousekeepingDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  /** Optional: deliver due outbox rows now (the pipeline's sender), called by the outbox sweep. */
  sendDue?: () => Promise<unknown> | unknown;
}

export interface Housekeeping {
  stop(): void;
  runNow(task: HousekeepingTask): Promise<Record<string, unknown>>;
  status(): Array<{ task: HousekeepingTask; cron: string; running: boolean; lastRun: string | null; lastResult: unknown; lastError: string | null; nextRun: string | null }>;
}

/** Expire pending outbox rows past output.maxAgeHours that were tried at least once (markFailed only expires on a failure). */
export function outboxSweep(store: Pick<Store, 'outbox'>, maxAgeHours: number, now = Date.now()): { expired: number; pending: number; due: number; deadLetter: number } {
  const expired = maxAgeHours > 0 ? store.outbox.expireStale(maxAgeHours, now) : 0;
  const d = store.outbox.depth();
  return { expired, pending: d.pending, due: store.outbox.dueCount(now), deadLetter: d.deadLetter };
}

/** Counts of the last 24 hours (no patient data): studies, jobs by state, flagged, outputs, disk. */
export function dailySummary(store: Store, now = Date.now()): Record<string, number> {
  const since = now - 86_400_000;
  const a = store.index.activitySince(since);
  const depth = store.outbox.depth();
  const free = diskFree(store.dir);
  return {
    studiesReceived: a.studiesReceived,
    instancesReceived: a.instancesReceived,
    jobsDone: a.jobsFinished['done'] ?? 0,
    jobsNotAssessable: a.jobsFinished['not-assessable'] ?? 0,
    jobsFailed: a.jobsFinished['failed'] ?? 0,
    flagged: store.index.countFlaggedSince(since),
    outputsSent: store.outbox.sentSince(since),
    outboxPending: depth.pending,
    deadLetters: depth.deadLetter,
    studiesTotal: a.studiesTotal,
    diskFreeMb: free === null ? NaN : Math.round(free / 1048576),
  };
}

/**
 * Scheduled housekeeping (node-cron, schedules in config `housekeeping`): retention, outbox sweep, SQLite
 * checkpoint/vacuum and a daily summary line. Each run logs start and end; a task never overlaps itself.
 * Every task is a short synchronous SQLite transaction or a per-file operation, so it is safe while the service works.
 */
export function startHousekeeping(deps: HousekeepingDeps): Housekeeping {
  const { config, store, metrics } = deps;
  const hk = config.housekeeping;
  const runs = metrics.registry.counter('osteoscreen_housekeeping_runs_total', 'Housekeeping task runs, by task and result');
  const state = new Map<HousekeepingTask, { running: boolean; lastRun: number | null; lastResult: unknown; lastError: string | null }>(
    HOUSEKEEPING_TASKS.map((t) => [t, { running: false, lastRun: null, lastResult: null, lastError: null }]),
  );
  metrics.registry.gauge('osteoscreen_housekeeping_last_run_timestamp_seconds', 'When each housekeeping task last finished (Unix time)', () =>
    [...state].filter(([, s]) => s.lastRun !== null).map(([task, s]) => [{ task }, Math.round(s.lastRun! / 1000)]),
  );
  const schedules: Record<HousekeepingTask, string> = {
    retention: hk.retentionCron,
    outbox: hk.outboxCron,
    vacuum: hk.vacuumCron,
    summary: hk.summaryCron,
  };

  const bodies: Record<HousekeepingTask, () => Promise<Record<string, unknown>>> = {
    retention: async () => {
      if (!(hk.retentionDays > 0)) return { disabled: true };
      return { ...runRetention(store, hk.retentionDays), days: hk.retentionDays };
    },
    outbox: async () => {
      const r = outboxSweep(store, config.output.maxAgeHours);
      if (deps.sendDue && r.due > 0) await deps.sendDue();
      return r;
    },
    vacuum: async () => store.vacuum(),
    summary: async () => {
      const s = dailySummary(store);
      log.info('daily summary (last 24 h)', s);
      return s;
    },
  };

  const run = async (task: HousekeepingTask, reason: string): Promise<Record<string, unknown>> => {
    const s = state.get(task)!;
    if (s.running) {
      log.info('housekeeping task already running; skipped', { task, reason });
      return { skipped: 'already running' };
    }
    s.running = true;
    const t0 = Date.now();
    // The outbox sweep runs every minute: its start/end go to debug unless it did something.
    const quiet = task === 'outbox' && reason === 'scheduled';
    (quiet ? log.debug : log.info)('housekeeping task started', { task, reason });
    try {
      const result = await bodies[task]();
      s.lastResult = result;
      s.lastError = null;
      runs.inc({ task, result: 'ok' });
      const loud = !quiet || Number(result.expired ?? 0) > 0;
      (loud ? log.info : log.debug)('housekeeping task finished', { task, seconds: (Date.now() - t0) / 1000, ...result });
      return result;
    } catch (e) {
      s.lastError = errorMessage(e);
      runs.inc({ task, result: 'error' });
      log.error('housekeeping task failed', { task, seconds: (Date.now() - t0) / 1000, error: s.lastError });
      throw e;
    } finally {
      s.running = false;
      s.lastRun = Date.now();
    }
  };

  const tasks = new Map<HousekeepingTask, ScheduledTask>();
  for (const task of HOUSEKEEPING_TASKS) {
    const expr = schedules[task];
    if (!cron.validate(expr)) throw new OsteoError('config-invalid', `housekeeping: invalid cron expression for ${task}: "${expr}"`);
    const t = cron.schedule(
      expr,
      async () => {
        await run(task, 'scheduled').catch(() => undefined);
      },
      { name: `osteoscreen-${task}`, noOverlap: true },
    );
    t.unref?.();
    tasks.set(task, t);
  }
  log.info('housekeeping scheduled', { ...schedules, retentionDays: hk.retentionDays });

  return {
    stop() {
      for (const t of tasks.values()) {
        void t.stop();
        void t.destroy();
      }
      tasks.clear();
    },
    runNow: (task) => {
      if (!(HOUSEKEEPING_TASKS as readonly string[]).includes(task)) {
        return Promise.reject(new OsteoError('bad-task', `unknown housekeeping task; one of ${HOUSEKEEPING_TASKS.join(', ')}`, 400));
      }
      return run(task, 'manual');
    },
    status: () =>
      HOUSEKEEPING_TASKS.map((task) => {
        const s = state.get(task)!;
        const next = tasks.get(task)?.getNextRun() ?? null;
        return {
          task,
          cron: schedules[task],
          running: s.running,
          lastRun: s.lastRun ? new Date(s.lastRun).toISOString() : null,
          lastResult: s.lastResult,
          lastError: s.lastError,
          nextRun: next ? next.toISOString() : null,
        };
      }),
  };
}
