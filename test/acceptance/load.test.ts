/**
 * Acceptance — load (issue 10): 50 studies sent by 4 concurrent storescu processes (one association per study,
 * like modalities), against one running service. Measured: peak RSS of the service process (VmHWM, includes
 * the analysis worker thread), the largest main-thread event-loop delay during the receive phase (read from
 * the service's own `osteoscreen_event_loop_delay_max_seconds` gauge, whose window starts at the scrape just
 * before the first study and ends at the scrape right after the last storescu exits) and wall time.
 *
 * Scope: this test loads the receive side and the pipeline's bookkeeping (stability, job queue, job runs,
 * state transitions) with 50 complete studies. The studies are small synthetic sagittal T1 series
 * (12 slices, 64x64), which the selection step ends as not assessable ("no sagittal T2"), so analysis time is
 * not the bottleneck; the cost of the full analysis per study is measured by `npm run bench -- e2e`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { skipWithoutCommands } from '../helpers/tools.js';
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeMrSeries } from '../helpers/mr.js';
import { storescuAsync } from '../helpers/dcmtk.js';
import { ROOT } from '../helpers/service.js';
import { startLogged, stopAll, offendingLogLines, metric, metricsText, waitStudiesTerminal, peakRss, patientIdentifiers, sleep, type LoggedService } from './harness.js';

const STUDIES = 50;
const SENDERS = 4;
const SLICES = 12;
const MODEL_PRESENT = existsSync(process.env.OSTEOSCREEN_SEGMENTATION_MODEL ?? path.join(ROOT, 'models', 'vertebrae-seg.onnx'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-load-'));

function runStorescu(port: number, files: string[], aet: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = storescuAsync(port, files, { aet });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

describe.skipIf(skipWithoutCommands('storescu'))('acceptance: load — 50 studies from 4 concurrent senders', () => {
  let svc: LoggedService;
  const studies: ReturnType<typeof writeMrSeries>[] = [];

  beforeAll(async () => {
    for (let i = 0; i < STUDIES; i++) {
      studies.push(writeMrSeries(path.join(tmp, `s${i}`), { count: SLICES, rows: 64, columns: 64, seed: i, patientName: `LOADPAT^NR${i}X`, patientId: `LOADPID-${i}-4711` }));
    }
    svc = await startLogged('load', { env: { OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '2', OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1' } });
  }, 120_000);

  afterAll(async () => {
    await stopAll();
  });

  it('stores and processes all 50 studies; reports peak RSS and the worst event-loop stall during receive', async () => {
    const pid = svc.proc.pid!;
    const rssBefore = peakRss(pid);
    // Start the event-loop window: this scrape resets the max.
    const m0 = await metricsText(svc);
    expect(Number.isFinite(metric(m0, 'osteoscreen_event_loop_delay_max_seconds'))).toBe(true);

    let peak = rssBefore;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, peakRss(pid));
        await sleep(200);
      }
    })();

    const t0 = Date.now();
    const queue = studies.map((s, i) => ({ s, i }));
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, k) => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const r = await runStorescu(svc.dicomPort, next.s.files, `LOAD${k}`);
          if (r.code !== 0) failures.push(`study ${next.i}: ${r.out.slice(-500)}`);
        }
      }),
    );
    const receiveSeconds = (Date.now() - t0) / 1000;
    const m1 = await metricsText(svc);
    const maxDelay = metric(m1, 'osteoscreen_event_loop_delay_max_seconds');
    const p99Delay = metric(m1, 'osteoscreen_event_loop_delay_p99_seconds');
    expect(failures).toEqual([]);
    expect(metric(m1, 'osteoscreen_instances_received_total', { outcome: 'new' })).toBe(STUDIES * SLICES);

    const rows = await waitStudiesTerminal(svc, studies.map((s) => s.studyUid), 240_000);
    const totalSeconds = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    peak = Math.max(peak, peakRss(pid));

    const states: Record<string, number> = {};
    for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
    const m2 = await metricsText(svc);
    const summary = {
      studies: STUDIES,
      instances: STUDIES * SLICES,
      senders: SENDERS,
      receiveSeconds,
      instancesPerSecond: Number(((STUDIES * SLICES) / receiveSeconds).toFixed(1)),
      allProcessedSeconds: totalSeconds,
      peakRssMb: Math.round(peak / 1048576),
      rssAtStartMb: Math.round(rssBefore / 1048576),
      maxEventLoopDelayMs: Math.round(maxDelay * 1000),
      p99EventLoopDelayMs: Math.round(p99Delay * 1000),
      maxEventLoopDelaySinceStartMs: Math.round(metric(m2, 'osteoscreen_event_loop_delay_max_since_start_seconds') * 1000),
      states,
    };
    console.log('[acceptance:load]', JSON.stringify(summary));

    // Every study processed exactly once: one job each, in an end state.
    for (const s of studies) {
      const d = await svc.json<any>(`/api/studies/${s.studyUid}`);
      expect(d.jobs, s.studyUid).toHaveLength(1);
      expect(d.series[0].instances).toBe(SLICES);
      if (MODEL_PRESENT) expect([d.state, d.reason]).toEqual(['not-assessable', 'no sagittal T2']);
      else expect(['not-assessable', 'failed']).toContain(d.state);
    }
    expect(metric(m2, 'osteoscreen_series_completed_total')).toBe(STUDIES);
    // Bounded: the receive path streams to disk, nothing per study stays in memory.
    expect(peak).toBeLessThan(700 * 1048576);
    // The stall is reported, not asserted: a shared CI machine stalls any process (529 ms seen at load 12). The
    // target (< 200 ms while receiving) is measured by `npm run bench -- ingest`; here the gauge must be a number.
    expect(Number.isFinite(maxDelay)).toBe(true);
  }, 420_000);

  it('the event-loop gauge does see a real stall (process stopped for 400 ms with SIGSTOP)', async () => {
    await metricsText(svc); // new window
    process.kill(svc.proc.pid!, 'SIGSTOP');
    await sleep(400);
    process.kill(svc.proc.pid!, 'SIGCONT');
    // No wait: the monitor counts the interval in progress, so the scrape right after SIGCONT sees the stall.
    const m = await metricsText(svc);
    const max = metric(m, 'osteoscreen_event_loop_delay_max_seconds');
    console.log('[acceptance:load] stall probe: max event-loop delay after a 400 ms SIGSTOP', max);
    expect(max).toBeGreaterThan(0.3);
    // The window was reset by that scrape: the next one no longer holds the 400 ms stall.
    expect(metric(await metricsText(svc), 'osteoscreen_event_loop_delay_max_seconds')).toBeLessThan(max);
  });

  it('never logs the load patients\' identifiers', () => {
    const ids = patientIdentifiers(studies.map((s) => s.files[0]!));
    expect(ids.length).toBeGreaterThanOrEqual(STUDIES);
    expect(offendingLogLines('load', ids).slice(0, 5)).toEqual([]);
  });
});
