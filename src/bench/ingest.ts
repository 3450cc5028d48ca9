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
/** osteoscreen_event_loop_delay_max_seconds (ms) from the admin /metrics; the scrape starts a new window. */
async function eventLoopMaxMs(p: Peer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`, { headers: { authorization: 'Bearer bench' } })).text();
  const m = /^osteoscreen_event_loop_delay_max_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

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
    let worstStallMs = 0;
    for (let r = 0; r < rounds; r++) {
      // Fresh UIDs each round so no receiver sees duplicates.
      const files = writeMrSeries(path.join(dir, `r${r}`), { count: n, rows: 64, columns: 64 }).files;
      for (const p of peers) {
        process.stderr.write(`bench ingest: round ${r + 1}/${rounds} -> ${p.name} ...\n`);
        // The scrape before a round resets the event-loop window, the one after reads the worst stall of the round.
        if (p.name === 'OsteoScreen') await eventLoopMaxMs(p);
        const s = await storescuTimed(p, files);
        if (p.name === 'OsteoScreen') worstStallMs = Math.max(worstStallMs, await eventLoopMaxMs(p));
        const rate = n / s;
        best.set(p.name, Math.max(best.get(p.name) ?? 0, rate));
      }
    }
    const ours = best.get('OsteoScreen')!;
    process.stdout.write(
      `ingest: worst event-loop stall of OsteoScreen while receiving: ${worstStallMs.toFixed(0)} ms (target < 200 ms: ${worstStallMs < 200 ? 'met' : 'NOT met'})\n`,
    );
    printTable(
      `ingest: ${n} instances over one association, best of ${rounds} rounds (same storescu sender)`,
      ['receiver', 'instances/s', 'OsteoScreen ÷ receiver'],
      peers.map((p) => [p.name, best.get(p.name)!.toFixed(1), (ours / best.get(p.name)!).toFixed(2)]),
    );
  } finally {
    for (const p of peers) await p.stop();
  }
}
