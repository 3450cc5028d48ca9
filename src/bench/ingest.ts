import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseOptions, numberOption } from '../common/command.js';
import { writeMrSeries } from './synthetic-mr.js';
import { startOsteoScreen, startStorescp, startOrthancPeer, type Peer } from './peers.js';
import { loadInstance, sendInstances, type ScuInstance } from './nodelay-scu.js';
import { printTable } from './table.js';
import { diskFloor, type DiskFloor } from './disk-floor.js';

/**
 * Ingest benchmark: the same MR instances sent to OsteoScreen, dcmtk storescp (writing to disk) and Orthanc, in
 * one run, by two senders:
 *   - nodelay: the project's own loopback C-STORE SCU (nodelay-scu.ts, TCP_NODELAY, one write per message), once
 *     with one association and once with `--senders` concurrent associations;
 *   - storescu: dcmtk's storescu, `--senders` processes at once (it stalls ~40 ms per message on loopback, so it
 *     mostly measures itself; kept as the second, independent sender).
 * Reported per receiver and sender: instances/s, MB/s, p50/p99 last PDU -> C-STORE-RSP (nodelay only), the event
 * loop's worst stall (OsteoScreen, from its /metrics), the receiver's peak RSS (process and its children) and
 * the CPU time per instance of receiver and sender (all their threads and reaped children). Then the disk's own
 * floor (disk-floor.ts: durable creates of the instance size from 1 and `--senders` threads) and what the CPU
 * time allows on this machine's cores, so a figure can be read against the limits it runs into.
 * Each of the `--rounds` (default 3) sends fresh instances to every receiver, the services staying up. OsteoScreen
 * (and the no-delay sender, both Node) get faster over the first few thousand instances, as V8 compiles their hot
 * paths: the summary gives the best round and the first one.
 */

/** CPU time (ms) of a process: all its threads, and its children that have exited (Linux /proc, 100 ticks/s). */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return NaN;
  }
}

/** osteoscreen_event_loop_delay_max_seconds (ms) from the admin /metrics; the scrape starts a new window. */
async function eventLoopMaxMs(p: Peer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`, { headers: { authorization: 'Bearer bench' } })).text();
  const m = /^osteoscreen_event_loop_delay_max_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

/** Resident set (bytes) of a process and its descendants, from /proc (Linux). */
function treeRss(pid: number): number {
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += m ? Number(m[1]) * 1024 : 0;
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
        if (kids) todo.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Sample the peak RSS of `pid` (and children) every 50 ms until stopped. */
function rssSampler(pid: number): () => number {
  let peak = treeRss(pid);
  const t = setInterval(() => (peak = Math.max(peak, treeRss(pid))), 50);
  return () => (clearInterval(t), Math.max(peak, treeRss(pid)));
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function storescuRun(peer: Peer, files: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('storescu', ['-aec', peer.aet, '-aet', 'BENCHSCU', '127.0.0.1', String(peer.port), ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`storescu to ${peer.name} failed (${code}): ${out.slice(0, 500)}`))));
  });
}

interface Row {
  round: number;
  receiver: string;
  sender: string;
  senders: number;
  instances: number;
  seconds: number;
  bytes: number;
  p50: number;
  p99: number;
  stallMs: number;
  rssBytes: number;
  failures: number;
  /** CPU ms per instance: receiver process, sender (this process for nodelay, storescu processes) */
  recvCpu: number;
  sendCpu: number;
}

export async function benchIngest(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, {
    count: { type: 'string' },
    rows: { type: 'string' },
    cols: { type: 'string' },
    senders: { type: 'string' },
    rounds: { type: 'string' },
    'storescu-count': { type: 'string' },
    'no-orthanc': { type: 'boolean' },
    'no-storescp': { type: 'boolean' },
    'no-storescu': { type: 'boolean' },
    'no-floor': { type: 'boolean' },
  });
  const n = numberOption(values.count, '--count', 250);
  const rows = numberOption(values.rows, '--rows', 256);
  const cols = numberOption(values.cols, '--cols', 256);
  const senders = numberOption(values.senders, '--senders', 4);
  const rounds = numberOption(values.rounds, '--rounds', 3);
  const scCount = numberOption(values['storescu-count'], '--storescu-count', Math.min(n, 60));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  const peers: Peer[] = [];
  const results: Row[] = [];
  try {
    peers.push(await startOsteoScreen({ OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '3600' }));
    if (!values['no-storescp']) peers.push(await startStorescp());
    if (!values['no-orthanc']) peers.push(await startOrthancPeer());
    for (let r = 0; r < rounds; r++) {
      // Fresh UIDs per round and per run, so no receiver sees a duplicate (an identical re-send is a shortcut).
      process.stderr.write(`bench ingest: round ${r + 1}/${rounds}: writing MR instances (${rows}x${cols}) ...\n`);
      const mk = (name: string, count: number) => writeMrSeries(path.join(dir, `r${r}`, name), { count, rows, columns: cols }).files;
      const one = mk('one', n);
      const many = Array.from({ length: senders }, (_, i) => mk(`many${i}`, n));
      const sc = values['no-storescu'] ? [] : Array.from({ length: senders }, (_, i) => mk(`sc${i}`, scCount));
      const oneI = one.map(loadInstance);
      const manyI = many.map((fs) => fs.map(loadInstance));
      const size = (xs: ScuInstance[]) => xs.reduce((s, x) => s + x.dataset.length, 0);
      for (const p of peers) {
        const runs: { sender: string; go: () => Promise<{ lat: number[]; bytes: number; count: number; failures: number }>; k: number }[] = [
          {
            sender: 'nodelay',
            k: 1,
            go: async () => {
              const res = await sendInstances(oneI, { port: p.port, calledAe: p.aet });
              if (res.error) process.stderr.write(`bench ingest: ${p.name}: ${res.error}\n`);
              return { lat: res.latenciesMs, bytes: size(oneI), count: oneI.length, failures: oneI.length - res.succeeded.length };
            },
          },
          {
            sender: 'nodelay',
            k: senders,
            go: async () => {
              const res = await Promise.all(manyI.map((xs) => sendInstances(xs, { port: p.port, calledAe: p.aet })));
              for (const x of res) if (x.error) process.stderr.write(`bench ingest: ${p.name}: ${x.error}\n`);
              const count = manyI.reduce((s, xs) => s + xs.length, 0);
              return { lat: res.flatMap((x) => x.latenciesMs), bytes: manyI.reduce((s, xs) => s + size(xs), 0), count, failures: count - res.reduce((s, x) => s + x.succeeded.length, 0) };
            },
          },
        ];
        if (sc.length) {
          runs.push({
            sender: 'storescu',
            k: senders,
            go: async () => {
              await Promise.all(sc.map((fs) => storescuRun(p, fs)));
              const count = sc.reduce((s, fs) => s + fs.length, 0);
              return { lat: [], bytes: sc.flat().reduce((s, f) => s + statSync(f).size, 0), count, failures: 0 };
            },
          });
        }
        for (const run of runs) {
          process.stderr.write(`bench ingest: round ${r + 1}/${rounds} -> ${p.name}, ${run.sender} x${run.k} ...\n`);
          if (p.name === 'OsteoScreen') await eventLoopMaxMs(p); // starts a new stall window
          const stopRss = rssSampler(p.proc.pid!);
          const cpu0 = [cpuMs(p.proc.pid!), cpuMs(process.pid)];
          const t0 = process.hrtime.bigint();
          const o = await run.go();
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          const cpu = [cpuMs(p.proc.pid!) - cpu0[0]!, cpuMs(process.pid) - cpu0[1]!].map((x) => x / o.count);
          const rssBytes = stopRss();
          const stallMs = p.name === 'OsteoScreen' ? await eventLoopMaxMs(p) : NaN;
          results.push({ round: r + 1, receiver: p.name, sender: run.sender, senders: run.k, instances: o.count, seconds, bytes: o.bytes, p50: quantile(o.lat, 0.5), p99: quantile(o.lat, 0.99), stallMs, rssBytes, failures: o.failures, recvCpu: cpu[0]!, sendCpu: cpu[1]! });
        }
      }
      rmSync(path.join(dir, `r${r}`), { recursive: true, force: true });
    }
    const floors: DiskFloor[] = [];
    if (!values['no-floor']) {
      const bytes = statSync(writeMrSeries(path.join(dir, 'floor'), { count: 1, rows, columns: cols }).files[0]!).size;
      for (const k of [...new Set([1, senders])]) {
        process.stderr.write(`bench ingest: disk floor, ${k} thread(s) ...\n`);
        floors.push(await diskFloor(dir, bytes, k));
      }
    }
    const load = readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
    const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
    printTable(
      `ingest: ${rows}x${cols} MR, ${n} instances per nodelay association, ${scCount} per storescu; ${rounds} round(s); load average ${load}`,
      ['round', 'receiver', 'sender', 'assocs', 'instances', 'inst/s', 'MB/s', 'p50 ms', 'p99 ms', 'worst stall ms', 'peak RSS MB', 'CPU ms/inst recv', 'CPU ms/inst send', 'failed'],
      results.map((x) => [String(x.round), x.receiver, x.sender, String(x.senders), String(x.instances), f(x.instances / x.seconds), f(x.bytes / 1048576 / x.seconds, 1), f(x.p50, 1), f(x.p99, 1), f(x.stallMs), f(x.rssBytes / 1048576), f(x.recvCpu, 2), f(x.sendCpu, 2), String(x.failures)]),
    );
    /** The rows of one receiver and sender, round by round. */
    const runsOf = (recv: string, sender: string, k: number) => results.filter((x) => x.receiver === recv && x.sender === sender && x.senders === k);
    const perSecond = (x: Row | undefined) => (x ? x.instances / x.seconds : NaN);
    /** The round with the highest rate for this receiver and sender (the service warms up: see the README). */
    const best = (recv: string, sender: string, k: number) => runsOf(recv, sender, k).reduce<Row | undefined>((b, x) => (!b || perSecond(x) > perSecond(b) ? x : b), undefined);
    const rate = (recv: string, sender: string, k: number) => perSecond(best(recv, sender, k));
    const first = (recv: string, sender: string, k: number) => perSecond(runsOf(recv, sender, k)[0]);
    const ours = rate('OsteoScreen', 'nodelay', senders);
    const roundsSaid = (k: number) => (rounds > 1 ? ` (best of ${rounds} rounds: round ${best('OsteoScreen', 'nodelay', k)?.round}; round 1, the first burst after start, ${f(first('OsteoScreen', 'nodelay', k))})` : '');
    const lines = [
      `OsteoScreen, nodelay x${senders}: ${f(ours)} inst/s${roundsSaid(senders)} (target >= 1000: ${ours >= 1000 ? 'met' : 'NOT met'})`,
      `OsteoScreen, nodelay x1: ${f(rate('OsteoScreen', 'nodelay', 1))} inst/s${roundsSaid(1)} (target >= 300: ${rate('OsteoScreen', 'nodelay', 1) >= 300 ? 'met' : 'NOT met'})`,
    ];
    for (const other of peers.filter((p) => p.name !== 'OsteoScreen')) lines.push(`OsteoScreen / ${other.name}, nodelay x${senders}: ${f(ours / rate(other.name, 'nodelay', senders), 2)}`);
    const worst = Math.max(...results.filter((x) => x.receiver === 'OsteoScreen').map((x) => x.stallMs));
    const rss = Math.max(...results.filter((x) => x.receiver === 'OsteoScreen').map((x) => x.rssBytes)) / 1048576;
    for (const fl of floors) {
      lines.push(`disk floor (write, fsync, rename, folder fsync; nothing else running), ${fl.threads} thread(s): ${f(fl.perSecond)} instances/s, p50 ${f(fl.p50Ms, 2)} ms each, ${f(fl.cpuMsPerInstance, 2)} ms CPU each`);
    }
    const mine = best('OsteoScreen', 'nodelay', senders);
    if (mine) {
      const cores = os.availableParallelism();
      const perInst = mine.recvCpu + mine.sendCpu;
      lines.push(`CPU, nodelay x${senders}${rounds > 1 ? ` (round ${mine.round})` : ''}: OsteoScreen ${f(mine.recvCpu, 2)} + sender ${f(mine.sendCpu, 2)} ms per instance; ${cores} CPU(s) allow at most ${f((cores * 1000) / perInst)} instances/s with every CPU busy (kernel work outside both processes not counted)`);
    }
    lines.push(`OsteoScreen worst event-loop stall ${f(worst)} ms (target < 200: ${worst < 200 ? 'met' : 'NOT met'}), peak RSS ${f(rss)} MB (target < 600: ${rss < 600 ? 'met' : 'NOT met'})`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    for (const p of peers) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
