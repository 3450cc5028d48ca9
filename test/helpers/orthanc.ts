/**
 * Start a real Orthanc (Debian package, /usr/sbin/Orthanc) for a test: own temp storage/index folders,
 * free DICOM/HTTP ports on loopback, no plugins, no authentication, any called AE title accepted.
 * `dicomWeb: true` loads Debian's orthanc-dicomweb plugin (STOW-RS at http://127.0.0.1:<httpPort>/dicom-web/studies);
 * `lua` is written to a script file and loaded (LuaScripts), e.g. an IncomingHttpRequestFilter;
 * `users` turns on HTTP basic authentication (RegisteredUsers); `rest()` then authenticates as the first user.
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
/** The DICOMweb plugin as the Debian package orthanc-dicomweb installs it (`dpkg -L orthanc-dicomweb`). */
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export function haveDicomWeb(): boolean {
  return existsSync(ORTHANC_BIN) && existsSync(DICOMWEB_PLUGIN);
}

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

export interface OrthancOptions {
  aet?: string;
  extraConfig?: Record<string, unknown>;
  dicomPort?: number;
  httpPort?: number;
  dicomWeb?: boolean;
  lua?: string;
  users?: Record<string, string>;
}

export async function startOrthanc(opts: OrthancOptions = {}): Promise<OrthancHandle> {
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
    Plugins: opts.dicomWeb ? [DICOMWEB_PLUGIN] : [],
    ConcurrentJobs: 1,
    HttpTimeout: 30,
    ...(opts.dicomWeb ? { DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true } } : {}),
    ...(opts.lua ? { LuaScripts: [join(dir, 'filter.lua')] } : {}),
    ...(opts.users ? { AuthenticationEnabled: true, RegisteredUsers: opts.users } : {}),
    ...opts.extraConfig,
  };
  if (opts.lua) writeFileSync(join(dir, 'filter.lua'), opts.lua);
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(config, null, 2));
  const proc = spawn(ORTHANC_BIN, [cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b) => (out += b.toString()));
  proc.stderr.on('data', (b) => (out += b.toString()));
  let exited = false;
  const exitedP = new Promise<void>((resolve) => proc.on('exit', () => ((exited = true), resolve())));

  const base = `http://127.0.0.1:${httpPort}`;
  const [user] = Object.entries(opts.users ?? {});
  const headers: Record<string, string> = user ? { authorization: 'Basic ' + Buffer.from(`${user[0]}:${user[1]}`).toString('base64') } : {};
  const rest = async (path: string, init: { method?: string; body?: string | Uint8Array } = {}) => {
    const res = await fetch(base + path, { method: init.method ?? 'GET', body: init.body as any, headers });
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
