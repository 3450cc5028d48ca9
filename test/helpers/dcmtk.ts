import { spawnSync, spawn } from 'node:child_process';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Run storescu; returns exit status and output. */
export function storescu(port: number, files: string[], opts: { aec?: string; aet?: string; extra?: string[] } = {}) {
  const args = ['-aec', opts.aec ?? 'OSTEOSCREEN', '-aet', opts.aet ?? 'TESTSCU', ...(opts.extra ?? []), '127.0.0.1', String(port), ...files];
  const r = spawnSync('storescu', args, { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

export function storescuAsync(port: number, files: string[], opts: { aec?: string; aet?: string; extra?: string[] } = {}) {
  const args = ['-aec', opts.aec ?? 'OSTEOSCREEN', '-aet', opts.aet ?? 'TESTSCU', ...(opts.extra ?? []), '127.0.0.1', String(port), ...files];
  return spawn('storescu', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function echoscu(port: number, opts: { aec?: string; aet?: string } = {}) {
  const r = spawnSync('echoscu', ['-aec', opts.aec ?? 'OSTEOSCREEN', '-aet', opts.aet ?? 'TESTSCU', '127.0.0.1', String(port)], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
