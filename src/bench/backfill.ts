import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, numberOption, UsageError } from '../common/command.js';
import { writePhantomStudies } from '../phantom/index.js';
import { sendFiles } from '../dicom/scu.js';
import { dcmFiles, startOsteoScreen, startOrthancPeer, until, type Peer } from './peers.js';
import { printTable } from './table.js';

/**
 * Backfill end to end: phantom studies (--fast) in a local Orthanc acting as the PACS (study dates 2019-2024); one
 * campaign (C-FIND, C-MOVE or C-GET (`--retrieve`) of the candidate series, analysis, retention). Studies per hour
 * from the campaign's start to its end, and per study the retrieval seconds (series query + C-MOVE/C-GET) against
 * the analysis seconds (sum of the job's stage timings). Retrieval and analysis overlap (the next study is
 * retrieved while one is analysed): the larger of the two sums bounds the rate.
 *
 * While the campaign runs: the service's event-loop stalls (its /metrics window is opened when the campaign starts
 * and read at every poll, so start-up is not counted), with the CPU time its main thread used in the window of the
 * worst stall (Linux /proc: a loop blocked by our code uses the CPU for the whole stall, a loop waiting for a core
 * on a loaded machine does not), and one more phantom study, not in the PACS, is pushed
 * (C-STORE, its sagittal series) once a first backfill study is being analysed: its wait in the job queue against
 * the backfill studies' waits and how many queued backfill studies it overtook (pushed studies go first).
 */
/** CPU time (ms) of a process's main thread so far (Linux; NaN elsewhere). */
function mainThreadCpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

export async function benchBackfill(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, { count: { type: 'string' }, seed: { type: 'string' }, concurrent: { type: 'string' }, retrieve: { type: 'string' } });
  const count = numberOption(values.count, '--count', 4);
  const seed = numberOption(values.seed, '--seed', 2727);
  const concurrent = numberOption(values.concurrent, '--concurrent', 2);
  const retrieve = values.retrieve ?? 'move';
  if (retrieve !== 'move' && retrieve !== 'get') throw new UsageError(`--retrieve must be move or get, got "${retrieve}"`);
  const op = retrieve === 'get' ? 'C-GET' : 'C-MOVE';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-backfill-'));
  process.stderr.write(`bench backfill: writing ${count} phantom studies (--fast) + 1 to push ...\n`);
  const all = writePhantomStudies({ out: dir, seed, count: count + 1, subSamples: 1 });
  const manifests = all.slice(0, count);
  const pushed = all[count]!;
  const pushFiles = pushed.series.filter((s) => s.expectedSelection).flatMap((s) => dcmFiles(path.resolve(dir, s.dir)));
  const peers: Peer[] = [];
  try {
    const orthanc = await startOrthancPeer();
    peers.push(orthanc);
    const rest = (p: string, method = "GET", body?: Uint8Array | string) => fetch(`http://127.0.0.1:${orthanc.httpPort}${p}`, { method, body: body as BodyInit | undefined });
    for (const m of manifests) for (const f of dcmFiles(path.resolve(dir, m.dir))) await rest('/instances', 'POST', new Uint8Array(readFileSync(f)));
    const osteo = await startOsteoScreen({
      OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '1',
      OSTEOSCREEN_PIPELINE_POLL_MS: '100',
      OSTEOSCREEN_BACKFILL_MAX_CONCURRENT: String(concurrent),
      OSTEOSCREEN_BACKFILL_MAX_PER_HOUR: '0',
    });
    peers.push(osteo);
    await rest('/modalities/osteoscreen', 'PUT', JSON.stringify({ AET: 'OSTEOSCREEN', Host: '127.0.0.1', Port: osteo.port }));
    const api = async (p: string, init: RequestInit = {}) => {
      const r = await fetch(`http://127.0.0.1:${osteo.httpPort}${p}`, { ...init, headers: { authorization: 'Bearer bench', 'content-type': 'application/json' } });
      if (!r.ok) throw new Error(`${p}: HTTP ${r.status} ${await r.text()}`);
      return r.json() as Promise<any>;
    };
    /** The service's event-loop gauges; each read starts a new window (see common/event-loop.ts). */
    const loop = async () => {
      const text = await (await fetch(`http://127.0.0.1:${osteo.httpPort}/metrics`)).text();
      const g = (name: string) => Number(new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)$`, 'm').exec(text)?.[1]) * 1000;
      return g('osteoscreen_event_loop_delay_max_seconds');
    };
    await loop();
    let cpuBefore = mainThreadCpuMs(osteo.proc.pid);
    let loopMax = 0;
    let loopMaxCpu = NaN;
    const t0 = Date.now();
    const c = await api('/api/backfill', { method: 'POST', body: JSON.stringify({ source: `ORTHANC@127.0.0.1:${orthanc.port}`, studyDateFrom: '20190101', studyDateTo: '20241231', retrieve }) });
    let view: any;
    let push: Promise<unknown> | undefined;
    await until(async () => {
      const l = await loop();
      const cpuNow = mainThreadCpuMs(osteo.proc.pid);
      if (Number.isFinite(l) && l > loopMax) [loopMax, loopMaxCpu] = [l, cpuNow - cpuBefore];
      cpuBefore = cpuNow;
      view = await api(`/api/backfill/${c.id}`);
      if (!push && (await api('/api/jobs?state=processing')).length > 0) {
        push = sendFiles({ aeTitle: 'OSTEOSCREEN', host: '127.0.0.1', port: osteo.port, callingAeTitle: 'BENCHSCU' }, pushFiles);
      }
      return view.state === 'done';
    }, 'campaign done', 1_800_000);
    const wallSeconds = (Date.now() - t0) / 1000;
    await push;
    let pushedJob: any;
    await until(async () => {
      pushedJob = (await api(`/api/jobs?study=${pushed.studyInstanceUID}`))[0];
      return Boolean(pushedJob?.finishedAt);
    }, 'the pushed study analysed', 600_000);
    const rows = (await api(`/api/backfill/${c.id}/studies`)) as any[];
    const table: string[][] = [];
    let retrieveSum = 0;
    let analyseSum = 0;
    let analysed = 0;
    const waits: number[] = [];
    let overtaken = 0;
    const wait = (j: any) => (Date.parse(j.startedAt) - Date.parse(j.createdAt)) / 1000;
    for (const r of rows) {
      const job = r.job ? await api(`/api/jobs/${r.job}`) : undefined;
      const timings = (job?.timings ?? {}) as Record<string, number>;
      const analyse = Object.values(timings).reduce((a, b) => a + b, 0);
      if (r.state === 'analysed') {
        analysed++;
        retrieveSum += r.retrieveSeconds ?? 0;
        analyseSum += analyse;
      }
      if (job?.startedAt) {
        waits.push(wait(job));
        if (job.createdAt < pushedJob.createdAt && job.startedAt > pushedJob.createdAt && job.startedAt > pushedJob.startedAt) overtaken++;
      }
      table.push([r.studyDate ?? '', r.state, String(r.series?.length ?? 0), String(r.instances ?? 0), (r.retrieveSeconds ?? NaN).toFixed(2), analyse.toFixed(2), job?.startedAt ? wait(job).toFixed(1) : '-']);
    }
    printTable(`backfill: ${count} phantom studies from a local Orthanc (C-FIND + ${op}), ${concurrent} retrievals at once (2 CPU cores)`, ['study date', 'state', `series (${op})`, 'instances', 'retrieve (s)', 'analysis (s)', 'queue wait (s)'], table);
    const perHour = (analysed / wallSeconds) * 3600;
    const total = retrieveSum + analyseSum;
    printTable('campaign', ['studies analysed', 'wall (s)', 'studies/hour', 'retrieval share', 'analysis share', 'dominant', 'worst event-loop stall (ms)', 'main-thread CPU in its window (ms)'], [
      [
        String(analysed),
        wallSeconds.toFixed(1),
        perHour.toFixed(0),
        total ? `${((100 * retrieveSum) / total).toFixed(0)} %` : '-',
        total ? `${((100 * analyseSum) / total).toFixed(0)} %` : '-',
        retrieveSum > analyseSum ? 'retrieval' : 'analysis',
        loopMax.toFixed(0),
        Number.isFinite(loopMaxCpu) ? loopMaxCpu.toFixed(0) : '?',
      ],
    ]);
    printTable('a study pushed during the campaign (C-STORE of its sagittal series)', ['instances', 'its queue wait (s)', 'backfill queue wait mean (s)', 'backfill max (s)', 'queued backfill studies it overtook'], [
      [String(pushFiles.length), wait(pushedJob).toFixed(1), waits.length ? (waits.reduce((a, b) => a + b, 0) / waits.length).toFixed(1) : '-', waits.length ? Math.max(...waits).toFixed(1) : '-', String(overtaken)],
    ]);
  } finally {
    for (const p of peers.reverse()) await p.stop();
  }
}
