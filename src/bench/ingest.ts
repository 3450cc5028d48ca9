import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, numberOption } from '../common/command.js';
import { writeMrSeries } from './synthetic-mr.js';
import { startOsteoScreen, startStorescp, startOrthancPeer, storescuTimed, type Peer } from './peers.js';
import { printTable } from './table.js';

/**
 * Ingest benchmark: the same N small MR instances sent by the same storescu (one association) to
 * OsteoScreen, dcmtk storescp (writing to disk) and Orthanc, in one run. Reports instances/s and ratios.
 * Loopback DICOM here is dominated by per-message latency, so ratios matter, not absolute rates.
 */
export async function benchIngest(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, { count: { type: 'string' }, rounds: { type: 'string' }, 'no-orthanc': { type: 'boolean' } });
  const n = numberOption(values.count, '--count', 500);
  const rounds = numberOption(values.rounds, '--rounds', 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  process.stderr.write(`bench ingest: writing ${n} MR instances (64x64) ...\n`);
  const peers: Peer[] = [];
  try {
    peers.push(await startOsteoScreen({ OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '3600' }));
    peers.push(await startStorescp());
    if (!values['no-orthanc']) peers.push(await startOrthancPeer());
    const best = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      // Fresh UIDs each round so no receiver sees duplicates.
      const files = writeMrSeries(path.join(dir, `r${r}`), { count: n, rows: 64, columns: 64 }).files;
      for (const p of peers) {
        process.stderr.write(`bench ingest: round ${r + 1}/${rounds} -> ${p.name} ...\n`);
        const s = await storescuTimed(p, files);
        const rate = n / s;
        best.set(p.name, Math.max(best.get(p.name) ?? 0, rate));
      }
    }
    const ours = best.get('OsteoScreen')!;
    printTable(
      `ingest: ${n} instances over one association, best of ${rounds} rounds (same storescu sender)`,
      ['receiver', 'instances/s', 'OsteoScreen ÷ receiver'],
      peers.map((p) => [p.name, best.get(p.name)!.toFixed(1), (ours / best.get(p.name)!).toFixed(2)]),
    );
  } finally {
    for (const p of peers) await p.stop();
  }
}
