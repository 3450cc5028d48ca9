import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Real DICOM peers for benchmarks: OsteoScreen itself, dcmtk storescp, Orthanc — child processes on free loopback ports. */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');

/** Every *.dcm file below `dir`, sorted (phantom study folders). */
export function dcmFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...dcmFiles(p));
    else if (p.endsWith('.dcm')) out.push(p);
  }
  return out.sort();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function until(fn: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await Promise.resolve(fn()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export interface Peer {
  name: string;
  aet: string;
  port: number;
  httpPort?: number;
  dataDir: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function wrap(name: string, aet: string, port: number, dataDir: string, proc: ChildProcess, httpPort?: number): Peer {
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  return {
    name, aet, port, httpPort, dataDir, proc,
    output: () => out,
    /** Stops the receiver and removes its data folder (a bench run stores gigabytes there). */
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startOsteoScreen(env: Record<string, string> = {}): Promise<Peer> {
  const port = await freePort();
  const httpPort = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'osteo-bench-'));
  const proc = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env,
      OSTEOSCREEN_DICOM_PORT: String(port),
      OSTEOSCREEN_HTTP_PORT: String(httpPort),
      OSTEOSCREEN_HTTP_HOST: '127.0.0.1',
      OSTEOSCREEN_STORAGE_DIR: dataDir,
      OSTEOSCREEN_HTTP_TOKEN: 'bench',
      OSTEOSCREEN_STORAGE_MIN_FREE_MB: '0',
      OSTEOSCREEN_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const peer = wrap('OsteoScreen', 'OSTEOSCREEN', port, dataDir, proc, httpPort);
  await until(async () => (await fetch(`http://127.0.0.1:${httpPort}/health`)).ok, 'OsteoScreen /health').catch((e) => {
    throw new Error(`${(e as Error).message}\n${peer.output()}`);
  });
  return peer;
}

export async function startStorescp(): Promise<Peer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'storescp-bench-'));
  const proc = spawn('storescp', ['-aet', 'STORESCP', '-od', dataDir, '--fork', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const peer = wrap('dcmtk storescp', 'STORESCP', port, dataDir, proc);
  await until(() => portOpen(port), 'storescp port');
  return peer;
}

export const ORTHANC_BIN = '/usr/sbin/Orthanc';

export async function startOrthancPeer(extra: Record<string, unknown> = {}): Promise<Peer> {
  if (!existsSync(ORTHANC_BIN)) throw new Error(`${ORTHANC_BIN} not found (apt-get install orthanc)`);
  const port = await freePort();
  const httpPort = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'orthanc-bench-'));
  mkdirSync(path.join(dataDir, 'storage'), { recursive: true });
  const cfg = {
    Name: 'osteoscreen-bench',
    StorageDirectory: path.join(dataDir, 'storage'),
    IndexDirectory: path.join(dataDir, 'index'),
    DicomAet: 'ORTHANC',
    DicomPort: port,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomCheckCalledAet: false,
    Plugins: [],
    ...extra,
  };
  const cfgPath = path.join(dataDir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const proc = spawn(ORTHANC_BIN, [cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const peer = wrap('Orthanc', 'ORTHANC', port, dataDir, proc, httpPort);
  await until(async () => (await fetch(`http://127.0.0.1:${httpPort}/system`)).ok, 'Orthanc REST').catch((e) => {
    throw new Error(`${(e as Error).message}\n${peer.output()}`);
  });
  return peer;
}

/** Send files with storescu over one association; resolves with wall seconds (throws on failure). */
export function storescuTimed(peer: Peer, files: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('storescu', ['-aec', peer.aet, '-aet', 'BENCHSCU', '127.0.0.1', String(peer.port), ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolve(s);
      else reject(new Error(`storescu to ${peer.name} failed (${code}): ${out.slice(0, 500)}`));
    });
  });
}
