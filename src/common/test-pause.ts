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

/** A test-only hook variable's value (trimmed; undefined when unset). Any value is refused under NODE_ENV=production. */
function testHookValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (raw && env.NODE_ENV === 'production') {
    throw new Error(`${name} is a test-only fault-injection hook and is refused when NODE_ENV=production: unset it`);
  }
  return raw || undefined;
}

/** The configured pause, or undefined when off. Throws a clear error for a bad value or under NODE_ENV=production. */
export function parseTestPause(env: NodeJS.ProcessEnv = process.env): PauseSpec | undefined {
  const raw = testHookValue(env, PAUSE_ENV);
  if (!raw) return undefined;
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

/**
 * TEST-ONLY failure injection in the analysis worker: `OSTEOSCREEN_TEST_FAULT=<action>@<stage>[:<n>]` makes the
 * analysis fail when it reaches <stage> on the job's attempts 1..n (default: every attempt), with one log line:
 * - throw: the analysis throws (an unexpected job failure: retried up to pipeline.maxAttempts, then `failed`);
 * - crash: the analysis worker thread dies of an uncaught exception (the service restarts the worker; the job in
 *   flight fails and is retried).
 * Stages: segmentation, features, report (as for the pause hook). Off unless set; refused under NODE_ENV=production.
 */
export const FAULT_ENV = 'OSTEOSCREEN_TEST_FAULT';
export const FAULT_STAGES = ['segmentation', 'features', 'report'] as const;
export type FaultStage = (typeof FAULT_STAGES)[number];
export const FAULT_ACTIONS = ['throw', 'crash'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

export interface FaultSpec {
  action: FaultAction;
  stage: FaultStage;
  /** Fail on the job's attempts 1..untilAttempt (Infinity = every attempt). */
  untilAttempt: number;
}

/** The configured fault, or undefined when off. Throws a clear error for a bad value or under NODE_ENV=production. */
export function parseTestFault(env: NodeJS.ProcessEnv = process.env): FaultSpec | undefined {
  const raw = testHookValue(env, FAULT_ENV);
  if (!raw) return undefined;
  const m = /^([a-z]+)@([a-z]+)(?::(\d+))?$/.exec(raw);
  const action = m?.[1] as FaultAction | undefined;
  const stage = m?.[2] as FaultStage | undefined;
  const until = m?.[3] === undefined ? Infinity : Number(m[3]);
  if (!action || !FAULT_ACTIONS.includes(action) || !stage || !FAULT_STAGES.includes(stage) || !(until >= 1)) {
    throw new Error(`${FAULT_ENV}: expected <action>@<stage>[:<n>] with action one of ${FAULT_ACTIONS.join(', ')}, stage one of ${FAULT_STAGES.join(', ')} and n >= 1, got "${raw}"`);
  }
  return { action, stage, untilAttempt: until };
}

export interface TestFault {
  readonly spec: FaultSpec | undefined;
  /** Resolves at once unless this stage and attempt are configured: then rejects (throw) or kills the thread (crash). */
  at(stage: FaultStage, attempt: number | undefined, fields?: Record<string, unknown>): Promise<void>;
}

export function createTestFault(env: NodeJS.ProcessEnv = process.env, log: Logger = logger('test-fault'), crash: (e: Error) => void = (e) => setImmediate(() => { throw e; })): TestFault {
  const spec = parseTestFault(env);
  return {
    spec,
    at(stage, attempt, fields) {
      if (!spec || stage !== spec.stage || (attempt ?? 1) > spec.untilAttempt) return Promise.resolve();
      log.warn(`TEST FAULT: ${spec.action} here (${FAULT_ENV}, test-only)`, { stage, attempt, ...fields });
      const e = new Error(`TEST FAULT (${FAULT_ENV}): ${spec.action} at ${stage}`);
      if (spec.action === 'throw') return Promise.reject(e);
      crash(e); // an uncaught exception: ends the worker thread
      return NEVER;
    },
  };
}

let faultInstance: TestFault | undefined;

/** The process's (thread's) fault hook (environment read once). */
export function testFault(): TestFault {
  return (faultInstance ??= createTestFault());
}

/** Fail here if OSTEOSCREEN_TEST_FAULT names this stage and attempt (a no-op otherwise). */
export function faultAt(stage: FaultStage, attempt: number | undefined, fields?: Record<string, unknown>): Promise<void> {
  return testFault().at(stage, attempt, fields);
}
