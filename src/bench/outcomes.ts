import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseOptions, numberOption } from '../common/command.js';
import { startEventLoopMonitor } from '../common/event-loop.js';
import { openStore } from '../store/index.js';
import { importOutcomeCsv } from '../outcomes/import.js';
import { CLI, startOsteoScreen } from './peers.js';
import { printTable } from './table.js';

/**
 * DXA outcome import (issue 26): N CSV rows (default 100 000)
 *  1. in-process (the code POST /api/outcomes and the CLI share): wall time and the worst event-loop stall of the
 *     importing process (target: < 10 s, stall < 200 ms);
 *  2. `osteoscreen outcomes import` into the data folder of a running service, while the bench keeps writing single
 *     outcomes through POST /api/outcomes (so the service contends for SQLite's write lock): CLI wall time, the
 *     service's worst event-loop stall (its /metrics) and the slowest API answer meanwhile.
 */
function csv(n: number): string {
  const rows = ['patient_id,issuer,dxa_date,t_score,z_score,age,sex'];
  for (let i = 0; i < n; i++) {
    const d = new Date(Date.UTC(2020, 0, 1) + (i % 2000) * 86_400_000).toISOString().slice(0, 10);
    rows.push(`P${i},HOSP,${d},${(-3 + (i % 50) / 10).toFixed(1)},${(-2 + (i % 40) / 10).toFixed(1)},${40 + (i % 50)},${i % 3 ? 'F' : 'M'}`);
  }
  return rows.join('\n') + '\n';
}

async function eventLoopMaxMs(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const m = /^osteoscreen_event_loop_delay_max_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

export async function benchOutcomes(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, { rows: { type: 'string' }, 'no-service': { type: 'boolean' } });
  const n = numberOption(values.rows, '--rows', 100_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-outcomes-'));
  const file = path.join(dir, 'dxa.csv');
  writeFileSync(file, csv(n));
  const results: string[][] = [];

  // 1. in-process
  const store = openStore(path.join(dir, 'data'));
  const mon = startEventLoopMonitor(5);
  try {
    mon.reset();
    const t0 = performance.now();
    const r = await importOutcomeCsv(store, readFileSync(file, 'utf8'), file, '');
    const s = (performance.now() - t0) / 1000;
    const stall = mon.maxSeconds() * 1000;
    if (r.stored !== n) throw new Error(`stored ${r.stored} of ${n}`);
    results.push(['in-process import (read, check, store)', s.toFixed(2), (n / s).toFixed(0), stall.toFixed(0), '—']);
  } finally {
    mon.stop();
    store.close();
  }

  // 2. the CLI into a running service's data folder, with API writes meanwhile
  if (!values['no-service']) {
    const peer = await startOsteoScreen();
    try {
      await eventLoopMaxMs(peer.httpPort!);
      let slowest = 0;
      let posts = 0;
      let done = false;
      const writer = (async () => {
        while (!done) {
          const t = performance.now();
          const res = await fetch(`http://127.0.0.1:${peer.httpPort}/api/outcomes`, {
            method: 'POST',
            headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
            body: JSON.stringify([{ patient_id: `API${posts}`, issuer: 'HOSP', dxa_date: '2026-01-01', t_score: -1.2, z_score: -0.5, age: 60, sex: 'F' }]),
          });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(`POST /api/outcomes: HTTP ${res.status}`);
          slowest = Math.max(slowest, performance.now() - t);
          posts++;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const t0 = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn(process.execPath, [CLI, 'outcomes', 'import', '--csv', file, '--data', peer.dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
        p.on('exit', resolve);
      });
      const s = (performance.now() - t0) / 1000;
      done = true;
      await writer;
      const stall = await eventLoopMaxMs(peer.httpPort!);
      if (code !== 0) throw new Error(`outcomes import exited ${code}`);
      results.push([`CLI import into a running service (${posts} API writes meanwhile)`, s.toFixed(2), (n / s).toFixed(0), stall.toFixed(0), slowest.toFixed(0)]);
    } finally {
      await peer.stop();
    }
  }
  printTable(`outcomes: importing ${n} DXA rows (targets: < 10 s, event-loop stall < 200 ms)`, ['how', 'seconds', 'rows/s', 'worst event-loop stall (ms)', 'slowest API write meanwhile (ms)'], results);
}
