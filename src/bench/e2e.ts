import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, numberOption } from '../common/command.js';
import { writePhantomStudies } from '../phantom/index.js';
import { dcmFiles, startOsteoScreen, startOrthancPeer, storescuTimed, until, type Peer } from './peers.js';
import { printTable } from './table.js';


/** Peak resident set size (VmHWM) of a process, in MB (Linux). */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * End to end: phantom studies sent to OsteoScreen (Orthanc as destination). For each study: time from the
 * last instance acknowledged to the SR stored in Orthanc, minus the configured stable wait; per-stage times
 * from the job; peak RSS of the service.
 */
export async function benchE2e(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, { count: { type: 'string' }, seed: { type: 'string' } });
  const count = numberOption(values.count, '--count', 3);
  const seed = numberOption(values.seed, '--seed', 4242);
  const stableSeconds = 1;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-e2e-'));
  process.stderr.write(`bench e2e: writing ${count} phantom studies ...\n`);
  const manifests = writePhantomStudies({ out: dir, seed, count });
  const peers: Peer[] = [];
  try {
    const orthanc = await startOrthancPeer();
    peers.push(orthanc);
    const osteo = await startOsteoScreen({
      OSTEOSCREEN_OUTPUT_DESTINATION: `ORTHANC@127.0.0.1:${orthanc.port}`,
      OSTEOSCREEN_PIPELINE_STABLE_SECONDS: String(stableSeconds),
      OSTEOSCREEN_PIPELINE_POLL_MS: '100',
    });
    peers.push(osteo);
    const rows: string[][] = [];
    const stageSums: Record<string, number[]> = {};
    for (let i = 0; i < manifests.length; i++) {
      const m = manifests[i]!;
      const files = dcmFiles(path.join(dir, `study-${String(i + 1).padStart(4, '0')}`));
      await storescuTimed(osteo, files);
      const t0 = Date.now();
      let job: any;
      await until(async () => {
        const r = await fetch(`http://127.0.0.1:${osteo.httpPort}/api/studies/${m.studyInstanceUID}`, { headers: { authorization: 'Bearer bench' } });
        job = r.ok ? await r.json() : undefined;
        return ['done', 'not-assessable', 'failed'].includes(job?.state);
      }, 'job to finish', 300_000);
      let srSeconds = NaN;
      if (job.state !== 'failed') {
        await until(async () => {
          const r = await fetch(`http://127.0.0.1:${orthanc.httpPort}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: m.studyInstanceUID, SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.33' } }) });
          return r.ok && ((await r.json()) as unknown[]).length > 0;
        }, 'SR in Orthanc', 120_000);
        srSeconds = (Date.now() - t0) / 1000 - stableSeconds;
      }
      const timings = (job.job?.timings ?? {}) as Record<string, number>;
      for (const [k, v] of Object.entries(timings)) (stageSums[k] ??= []).push(v);
      rows.push([String(i + 1), job.state, job.flag === null ? '-' : String(job.flag), srSeconds.toFixed(2), ...['select', 'volume', 'segment', 'features', 'score', 'report'].map((k) => (timings[k] ?? NaN).toFixed(2))]);
    }
    printTable(
      `end to end: last instance acknowledged -> SR stored in Orthanc, minus the ${stableSeconds} s stable wait (2 CPU cores)`,
      ['study', 'state', 'flag', 'to SR in PACS (s)', 'select', 'volume', 'segment', 'features', 'score', 'report'],
      rows,
    );
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    printTable('stage means (s)', Object.keys(stageSums), [Object.values(stageSums).map((a) => mean(a).toFixed(3))]);
    printTable('service memory', ['peak RSS (MB)'], [[peakRssMb(osteo.proc.pid!).toFixed(0)]]);
  } finally {
    for (const p of peers.reverse()) await p.stop();
  }
}
