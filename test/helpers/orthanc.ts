/**
 * Start a real Orthanc (Debian package, /usr/sbin/Orthanc) for a test: own temp storage/index folders,
 * free DICOM/HTTP ports on loopback, no plugins, no authentication, any called AE title accepted.
 *
 *   const o = await startOrthanc();
 *   ... storescu / sendFiles to 127.0.0.1:o.dicomPort (called AE o.aet) ...
 *   const ids = await o.rest('/instances');
 *   await o.stop();
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';

export const ORTHANC_BIN = '/usr/sbin/Orthanc';

export function haveOrthanc(): boolean {
  return existsSync(ORTHANC_BIN);
}

export interface OrthancHandle {
  dicomPort: number;
  httpPort: number;
  aet: string;
  /** GET (or other method) on the REST API, parsed JSON (or text when not JSON). Throws on HTTP errors. */
  rest(path: string, init?: { method?: string; body?: string | Uint8Array }): Promise<any>;
  /** Orthanc's stdout+stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startOrthanc(opts: { aet?: string; extraConfig?: Record<string, unknown>; dicomPort?: number; httpPort?: number } = {}): Promise<OrthancHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'orthanc-test-'));
  const dicomPort = opts.dicomPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const aet = opts.aet ?? 'ORTHANC';
  const config = {
    Name: 'osteoscreen-test',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    DicomAet: aet,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    HttpServerEnabled: true,
    DicomServerEnabled: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomCheckCalledAet: false,
    Plugins: [],
    ConcurrentJobs: 1,
    HttpTimeout: 30,
    ...opts.extraConfig,
  };
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(config, null, 2));
  const proc = spawn(ORTHANC_BIN, [cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b) => (out += b.toString()));
  proc.stderr.on('data', (b) => (out += b.toString()));
  let exited = false;
  const exitedP = new Promise<void>((resolve) => proc.on('exit', () => ((exited = true), resolve())));

  const base = `http://127.0.0.1:${httpPort}`;
  const rest = async (path: string, init: { method?: string; body?: string | Uint8Array } = {}) => {
    const res = await fetch(base + path, { method: init.method ?? 'GET', body: init.body as any });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc ${init.method ?? 'GET'} ${path} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exitedP;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`Orthanc exited early:\n${out.slice(-2000)}`);
        const sys = await rest('/system');
        return sys && sys.DicomPort === dicomPort;
      },
      'Orthanc REST /system',
      30_000,
      100,
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${out.slice(-2000)}`);
  }
  return { dicomPort, httpPort, aet, rest, output: () => out, stop };
}
