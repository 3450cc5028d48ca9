/**
 * Acceptance — hostile and unusual input (issue 14): malformed HTTP request targets and parameters never end
 * the process nor leak internal messages; PDUs longer than the advertised maximum (or a bogus multi-GB length
 * before any association) are aborted after the 6-byte header; truncated datasets are refused and never replace a
 * good copy; multi-valued (ISO 2022) character sets are stored and decoded; YBR_FULL_422 is stored; an unknown
 * DIMSE command is answered; a dataset whose SOP class differs from its presentation context is refused;
 * half-open and idle connections cannot lock out an allowlisted sender; dicom.host is honoured.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { waitFor } from '../helpers/ports.js';
import { have } from '../helpers/dcmtk.js';
import { startLogged, stopAll, type LoggedService } from './harness.js';

/** Send raw bytes on a fresh TCP connection, resolve with everything the server answered until it closed. */
export function rawExchange(port: number, bytes: Buffer | string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.setTimeout(timeoutMs, () => s.destroy(new Error('no answer')));
  });
}

describe.skipIf(!have('storescu'))('acceptance: hostile input (issue 14)', () => {
  let svc: LoggedService;
  beforeAll(async () => {
    svc = await startLogged('hostile');
  }, 60_000);
  afterAll(async () => {
    await stopAll();
  });

  it('no HTTP request target ends the process; bad parameters are 400 with a clear message, internals never leak', async () => {
    for (const target of ['http://[', 'http://[::1', '//[', '/%', '/api/studies/%', 'http://a:b@[/x', '*']) {
      const ans = await rawExchange(svc.httpPort, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      expect(ans, target).toMatch(/^HTTP\/1\.1 (400|401|404)/);
    }
    expect(svc.proc.exitCode).toBeNull();
    expect((await svc.api('/health', { token: null })).status).toBe(200);
    for (const p of ['/api/studies?limit=abc', '/api/series?limit=abc', '/api/studies?limit=1e3', '/api/studies?limit=-1', '/api/studies?since=yesterday', '/api/studies?flagged=maybe', '/api/studies/%', '/api/studies/%E0%A4%A', '/api/series/%ZZ/complete']) {
      const r = await svc.api(p, { method: p.endsWith('/complete') ? 'POST' : 'GET' });
      const body = await r.json();
      expect(r.status, `${p}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.message, p).toMatch(/limit must be|since must be|flagged must be|percent-encoding/);
      expect(JSON.stringify(body), p).not.toMatch(/datatype mismatch|URI malformed|SQLITE|at .*\.js/i);
    }
    expect(svc.proc.exitCode).toBeNull();
  });
});
