/**
 * TEST-ONLY fault injection at a named point: `OSTEOSCREEN_TEST_PAUSE_AT=<stage>[:<n>]` makes the service stop
 * when it reaches <stage> for the n-th time (default 1st) and every time after, log one line announcing it, and
 * wait there until the process is killed. The fault tests kill -9 the service while it waits, so "killed during
 * segmentation" is true whatever the load on the machine, instead of a kill timed with a guessed offset.
 *
 * Stages (where the wait happens):
 * - receiving:    SCP, a C-STORE's dataset is in its temp file; not yet validated, stored, indexed or acknowledged;
 * - segmentation: analysis worker, volumes loaded, before the segmentation (job `processing`);
 * - features:     analysis worker, segmentation passed the QA gate, before radiomics feature extraction;
 * - report:       analysis worker, study scored (or not assessable), before the report files are written;
 * - sending:      deliverer, the destination answered the C-STORE(s), before the outbox records the results.
 *
 * Off unless the variable is set; refused (start-up error) when NODE_ENV=production. Never set it on a real site.
 */
import { logger, type Logger } from './log.js';

export const PAUSE_ENV = 'OSTEOSCREEN_TEST_PAUSE_AT';
export const PAUSE_STAGES = ['receiving', 'segmentation', 'features', 'report', 'sending'] as const;
export type PauseStage = (typeof PAUSE_STAGES)[number];

export interface PauseSpec {
  stage: PauseStage;
  /** Pause from this arrival at the stage on (1 = the first). */
  from: number;
}

/** The configured pause, or undefined when off. Throws a clear error for a bad value or under NODE_ENV=production. */
export function parseTestPause(env: NodeJS.ProcessEnv = process.env): PauseSpec | undefined {
  const raw = env[PAUSE_ENV]?.trim();
  if (!raw) return undefined;
  if (env.NODE_ENV === 'production') {
    throw new Error(`${PAUSE_ENV} is a test-only fault-injection hook and is refused when NODE_ENV=production: unset it`);
  }
  const m = /^([a-z]+)(?::(\d+))?$/.exec(raw);
  const stage = m?.[1] as PauseStage | undefined;
  const from = m?.[2] === undefined ? 1 : Number(m[2]);
  if (!stage || !PAUSE_STAGES.includes(stage) || !(from >= 1)) {
    throw new Error(`${PAUSE_ENV}: expected <stage>[:<n>] with stage one of ${PAUSE_STAGES.join(', ')} and n >= 1, got "${raw}"`);
  }
  return { stage, from };
}

export interface TestPause {
  readonly spec: PauseSpec | undefined;
  /** Resolves at once unless this is the configured stage (from its n-th arrival on): then never resolves. */
  at(stage: PauseStage, fields?: Record<string, unknown>): Promise<void>;
}

const NEVER = new Promise<void>(() => {});

export function createTestPause(env: NodeJS.ProcessEnv = process.env, log: Logger = logger('test-pause')): TestPause {
  const spec = parseTestPause(env);
  let arrivals = 0;
  return {
    spec,
    at(stage, fields) {
      if (!spec || stage !== spec.stage) return Promise.resolve();
      arrivals++;
      if (arrivals < spec.from) return Promise.resolve();
      log.warn('TEST PAUSE: waiting here until the process is killed (OSTEOSCREEN_TEST_PAUSE_AT, test-only)', { stage, arrival: arrivals, ...fields });
      return NEVER;
    },
  };
}

let instance: TestPause | undefined;

/** The process's hook (environment read once, per thread). */
export function testPause(): TestPause {
  return (instance ??= createTestPause());
}

/** Pause here if OSTEOSCREEN_TEST_PAUSE_AT names this stage (a no-op otherwise). */
export function pauseAt(stage: PauseStage, fields?: Record<string, unknown>): Promise<void> {
  return testPause().at(stage, fields);
}
