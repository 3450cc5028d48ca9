import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, numberOption } from '../common/command.js';
import { writePhantomStudies } from '../phantom/index.js';
import { dcmFiles, startOsteoScreen, startOrthancPeer, until, type Peer } from './peers.js';
import { printTable } from './table.js';


/**
 * Backfill end to end: phantom studies (--fast) in a local Orthanc acting as the PACS (study dates 2019-2024); one campaign (C-FIND,
 * C-MOVE of the candidate series to the service, analysis, retention). Studies per hour from the campaign's
 * start to its end, and per study the retrieval seconds (series query + C-MOVE) against the analysis seconds
 * (sum of the job's stage timings). Retrieval and analysis overlap (the next study is retrieved while one is
 * analysed): the larger of the two sums bounds the rate.
 */
export async function benchBackfill(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, { count: { type: 'string' }, seed: { type: 'string' }, concurrent: { type: 'string' } });
  const count = numberOption(values.count, '--count', 4);
  const seed = numberOption(values.seed, '--seed', 2727);
  const concurrent = numberOption(values.concurrent, '--concurrent', 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-backfill-'));
  process.stderr.write(`bench backfill: writing ${count} phantom studies (--fast) ...\n`);
  const manifests = writePhantomStudies({ out: dir, seed, count, subSamples: 1 });
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
    const t0 = Date.now();
    const c = await api('/api/backfill', { method: 'POST', body: JSON.stringify({ source: `ORTHANC@127.0.0.1:${orthanc.port}`, studyDateFrom: '20190101', studyDateTo: '20241231' }) });
    let view: any;
    await until(async () => {
      view = await api(`/api/backfill/${c.id}`);
      return view.state === 'done';
    }, 'campaign done', 1_800_000);
    const wallSeconds = (Date.now() - t0) / 1000;
    const rows = (await api(`/api/backfill/${c.id}/studies`)) as any[];
    const table: string[][] = [];
    let retrieveSum = 0;
    let analyseSum = 0;
    let analysed = 0;
    for (const r of rows) {
      const job = r.job ? await api(`/api/jobs/${r.job}`) : undefined;
      const timings = (job?.timings ?? {}) as Record<string, number>;
      const analyse = Object.values(timings).reduce((a, b) => a + b, 0);
      if (r.state === 'analysed') {
        analysed++;
        retrieveSum += r.retrieveSeconds ?? 0;
        analyseSum += analyse;
      }
      table.push([r.studyDate ?? '', r.state, String(r.series?.length ?? 0), String(r.instances ?? 0), (r.retrieveSeconds ?? NaN).toFixed(2), analyse.toFixed(2)]);
    }
    printTable(`backfill: ${count} phantom studies from a local Orthanc (C-FIND + C-MOVE), ${concurrent} retrievals at once (2 CPU cores)`, ['study date', 'state', 'series moved', 'instances', 'retrieve (s)', 'analysis (s)'], table);
    const metrics = await (await fetch(`http://127.0.0.1:${osteo.httpPort}/metrics`)).text();
    const loopMax = Number(/^osteoscreen_event_loop_delay_max_since_start_seconds(?:\{\})? ([\d.e+-]+)/m.exec(metrics)?.[1]);
    const perHour = (analysed / wallSeconds) * 3600;
    const total = retrieveSum + analyseSum;
    printTable('campaign', ['studies analysed', 'wall (s)', 'studies/hour', 'retrieval share', 'analysis share', 'dominant', 'event loop max (ms)'], [
      [
        String(analysed),
        wallSeconds.toFixed(1),
        perHour.toFixed(0),
        total ? `${((100 * retrieveSum) / total).toFixed(0)} %` : '-',
        total ? `${((100 * analyseSum) / total).toFixed(0)} %` : '-',
        retrieveSum > analyseSum ? 'retrieval' : 'analysis',
        Number.isFinite(loopMax) ? (loopMax * 1000).toFixed(0) : '?',
      ],
    ]);
  } finally {
    for (const p of peers.reverse()) await p.stop();
  }
}
