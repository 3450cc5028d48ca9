import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestPause, parseTestPause, createTestFault, parseTestFault, PAUSE_STAGES, FAULT_STAGES, type PauseStage } from '../../src/common/test-pause.js';
import { logger, setLogSink } from '../../src/common/log.js';
import { CLI, ROOT } from '../helpers/service.js';
import { freePort } from '../helpers/ports.js';

/** 'paused' if `p` is still pending after every already-queued microtask, else 'passed'. */
async function state(p: Promise<void>): Promise<'paused' | 'passed'> {
  return Promise.race([p.then(() => 'passed' as const), new Promise<'paused'>((r) => setImmediate(() => r('paused')))]);
}

function captured() {
  const lines: string[] = [];
  return { lines, log: { ...logger('test-pause'), warn: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f)}`) } };
}

describe('test-only pause hook (OSTEOSCREEN_TEST_PAUSE_AT)', () => {
  it('is off unless the variable is set: every stage passes', async () => {
    for (const env of [{}, { OSTEOSCREEN_TEST_PAUSE_AT: '' }, { OSTEOSCREEN_TEST_PAUSE_AT: '  ' }]) {
      const c = captured();
      const hook = createTestPause(env, c.log);
      expect(hook.spec).toBeUndefined();
      for (const s of PAUSE_STAGES) expect(await state(hook.at(s))).toBe('passed');
      expect(c.lines).toEqual([]);
    }
  });

  it('parses <stage> and <stage>:<n>', () => {
    expect(parseTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: 'features' })).toEqual({ stage: 'features', from: 1 });
    expect(parseTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: ' receiving:61 ' })).toEqual({ stage: 'receiving', from: 61 });
    for (const bad of ['feature', 'features:0', 'features:x', 'FEATURES', 'features:1:2', 'segmentation,features']) {
      expect(() => parseTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: bad }), bad).toThrow(/expected <stage>\[:<n>\] with stage one of receiving, segmentation, features, report, sending/);
    }
  });

  it('is refused when NODE_ENV=production', () => {
    expect(() => parseTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: 'features', NODE_ENV: 'production' })).toThrow(/test-only .* refused when NODE_ENV=production/);
    expect(parseTestPause({ NODE_ENV: 'production' })).toBeUndefined();
    expect(parseTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: 'features', NODE_ENV: 'test' })).toEqual({ stage: 'features', from: 1 });
  });

  it('waits at the named stage only, from the n-th arrival on, announcing each wait in one log line', async () => {
    const c = captured();
    const hook = createTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: 'sending:3' }, c.log);
    const others = PAUSE_STAGES.filter((s) => s !== 'sending') as PauseStage[];
    for (const s of others) expect(await state(hook.at(s))).toBe('passed');
    expect(await state(hook.at('sending', { n: 1 }))).toBe('passed');
    expect(await state(hook.at('sending', { n: 2 }))).toBe('passed');
    expect(c.lines).toEqual([]);
    const third = hook.at('sending', { n: 3 });
    const fourth = hook.at('sending', { n: 4 });
    expect(await state(third)).toBe('paused');
    expect(await state(fourth)).toBe('paused');
    expect(c.lines).toHaveLength(2);
    expect(c.lines[0]).toMatch(/^TEST PAUSE: waiting here until the process is killed .*"stage":"sending","arrival":3,"n":3/);
    // Other stages still pass while one is paused.
    for (const s of others) expect(await state(hook.at(s))).toBe('passed');
  });

  it('the real logger writes the announcement as one greppable line', async () => {
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    try {
      const hook = createTestPause({ OSTEOSCREEN_TEST_PAUSE_AT: 'features' });
      void hook.at('features', { studyUid: '1.2.3' });
      expect(lines.filter((l) => l.includes('[test-pause]'))).toHaveLength(1);
      expect(lines.find((l) => l.includes('[test-pause]'))).toMatch(/WARN  \[test-pause\] TEST PAUSE: .* stage=features arrival=1 studyUid=1\.2\.3$/);
    } finally {
      setLogSink((l) => process.stderr.write(l + '\n'));
    }
  });

  it('osteoscreen serve refuses to start with the hook set under NODE_ENV=production, or with an unknown stage', async () => {
    const base = { ...process.env, OSTEOSCREEN_STORAGE_DIR: mkdtempSync(path.join(os.tmpdir(), 'osteo-pause-')), OSTEOSCREEN_DICOM_PORT: String(await freePort()), OSTEOSCREEN_HTTP_PORT: String(await freePort()) };
    const prod = spawnSync(process.execPath, [CLI, 'serve'], { cwd: ROOT, env: { ...base, NODE_ENV: 'production', OSTEOSCREEN_TEST_PAUSE_AT: 'features' }, encoding: 'utf8', timeout: 60_000 });
    expect(prod.status, prod.stderr).toBe(1);
    expect(prod.stderr).toMatch(/osteoscreen serve: OSTEOSCREEN_TEST_PAUSE_AT is a test-only fault-injection hook and is refused when NODE_ENV=production/);
    const bad = spawnSync(process.execPath, [CLI, 'serve'], { cwd: ROOT, env: { ...base, OSTEOSCREEN_TEST_PAUSE_AT: 'featurs' }, encoding: 'utf8', timeout: 60_000 });
    expect(bad.status, bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/OSTEOSCREEN_TEST_PAUSE_AT: expected <stage>\[:<n>\] .* got "featurs"/);
    const fault = spawnSync(process.execPath, [CLI, 'serve'], { cwd: ROOT, env: { ...base, NODE_ENV: 'production', OSTEOSCREEN_TEST_FAULT: 'throw@features' }, encoding: 'utf8', timeout: 60_000 });
    expect(fault.status, fault.stderr).toBe(1);
    expect(fault.stderr).toMatch(/osteoscreen serve: OSTEOSCREEN_TEST_FAULT is a test-only fault-injection hook and is refused when NODE_ENV=production/);
  });
});

describe('test-only fault hook (OSTEOSCREEN_TEST_FAULT)', () => {
  it('parses <action>@<stage>[:<n>]; a bad value or NODE_ENV=production is refused', () => {
    expect(parseTestFault({})).toBeUndefined();
    expect(parseTestFault({ OSTEOSCREEN_TEST_FAULT: 'throw@segmentation' })).toEqual({ action: 'throw', stage: 'segmentation', untilAttempt: Infinity });
    expect(parseTestFault({ OSTEOSCREEN_TEST_FAULT: ' crash@report:2 ' })).toEqual({ action: 'crash', stage: 'report', untilAttempt: 2 });
    for (const bad of ['throw', 'explode@features', 'throw@sending', 'throw@features:0', 'crash@features:x']) {
      expect(() => parseTestFault({ OSTEOSCREEN_TEST_FAULT: bad }), bad).toThrow(/expected <action>@<stage>\[:<n>\] with action one of throw, crash, stage one of segmentation, features, report/);
    }
    expect(() => parseTestFault({ OSTEOSCREEN_TEST_FAULT: 'throw@features', NODE_ENV: 'production' })).toThrow(/test-only .* refused when NODE_ENV=production/);
  });

  it('throw: rejects at the named stage on attempts 1..n only, with one log line each; other stages pass', async () => {
    const c = captured();
    const hook = createTestFault({ OSTEOSCREEN_TEST_FAULT: 'throw@features:2' }, c.log, () => expect.unreachable('no crash for throw'));
    for (const s of FAULT_STAGES.filter((s) => s !== 'features')) await expect(hook.at(s, 1)).resolves.toBeUndefined();
    await expect(hook.at('features', 1)).rejects.toThrow(/TEST FAULT \(OSTEOSCREEN_TEST_FAULT\): throw at features/);
    await expect(hook.at('features', 2)).rejects.toThrow(/throw at features/);
    await expect(hook.at('features', 3)).resolves.toBeUndefined();
    expect(c.lines).toHaveLength(2);
    expect(c.lines[1]).toMatch(/^TEST FAULT: throw here .*"stage":"features","attempt":2/);
  });

  it('crash: hands an uncaught error to the crash function and never resolves', async () => {
    const crashed: Error[] = [];
    const hook = createTestFault({ OSTEOSCREEN_TEST_FAULT: 'crash@segmentation' }, captured().log, (e) => crashed.push(e));
    const p = hook.at('segmentation', 7);
    expect(await Promise.race([p.then(() => 'settled'), new Promise((r) => setImmediate(() => r('pending')))])).toBe('pending');
    expect(crashed.map((e) => e.message)).toEqual(['TEST FAULT (OSTEOSCREEN_TEST_FAULT): crash at segmentation']);
  });
});
