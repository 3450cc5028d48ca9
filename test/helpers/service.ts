import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './ports.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface RunningService {
  proc: ChildProcess;
  dicomPort: number;
  httpPort: number;
  dataDir: string;
  token: string;
  logs: () => string;
  api(p: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  json<T = any>(p: string): Promise<T>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

type StartOptions = { env?: Record<string, string>; dataDir?: string; dicomPort?: number; httpPort?: number; token?: string };

/**
 * Start `osteoscreen serve` as a real child process on free ports with its own data folder. Ports chosen here
 * can be taken by another process before the service binds them (CI machines are shared): that start is retried
 * on new ports.
 */
export async function startService(opts: StartOptions = {}): Promise<RunningService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      const chosenHere = opts.dicomPort === undefined && opts.httpPort === undefined;
      if (attempt >= 3 || !chosenHere || !/port \d+ is already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function startOnce(opts: StartOptions): Promise<RunningService> {
  const dicomPort = opts.dicomPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'osteo-test-'));
  const token = opts.token ?? 'test-token-123';
  let out = '';
  const proc = spawn(process.execPath, [CLI, 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      OSTEOSCREEN_DICOM_PORT: String(dicomPort),
      OSTEOSCREEN_HTTP_PORT: String(httpPort),
      OSTEOSCREEN_HTTP_HOST: '127.0.0.1',
      OSTEOSCREEN_STORAGE_DIR: dataDir,
      OSTEOSCREEN_HTTP_TOKEN: token,
      // 1 s let a loaded machine's pause between two C-STOREs of one transfer close the series early (a second job,
      // a second SR revision: correct, but not what most tests count on).
      OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '3',
      OSTEOSCREEN_PIPELINE_POLL_MS: '200',
      OSTEOSCREEN_STORAGE_MIN_FREE_MB: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${httpPort}`;
  const api = (p: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const t = init.token === undefined ? token : init.token;
    if (t) headers.set('authorization', `Bearer ${t}`);
    return fetch(base + p, { ...init, headers });
  };
  const svc: RunningService = {
    proc,
    dicomPort,
    httpPort,
    dataDir,
    token,
    logs: () => out,
    api,
    json: async (p) => {
      const r = await api(p);
      if (!r.ok) throw new Error(`${p}: HTTP ${r.status}`);
      return r.json();
    },
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`service exited early (${proc.exitCode}):\n${out}`);
      // 503 "degraded" (e.g. no segmentation model) is up too: the tests check the body.
      const r = await fetch(base + '/health').catch(() => undefined);
      return r?.ok || r?.status === 503;
    },
    'service /health',
    30_000,
  ).catch((e) => {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n--- service output ---\n${out}`);
  });
  return svc;
}

export function readToken(dataDir: string): string {
  return readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
}
