/**
 * One HTTP(S) POST with node:http / node:https (no dependency): a CA of our own for https (`ca`), an overall
 * time limit, redirects not followed (a 3xx is an answer like any other), the whole answer body read.
 * Rejects only when no HTTP answer arrived (DNS, refused connection, TLS failure, timeout, reset).
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { errorMessage } from '../common/errors.js';

export interface PostOptions {
  headers: Record<string, string>;
  body: Buffer;
  /** PEM CA certificate(s) trusted for https instead of the system CAs. */
  ca?: Buffer;
  timeoutMs: number;
}

export interface PostAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Answer bodies are read up to this size (a STOW-RS answer lists UIDs; a webhook answer is small). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export function httpPost(url: string, opts: PostOptions): Promise<PostAnswer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, answer?: PostAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = lib.request(
      u,
      { method: 'POST', headers: { ...opts.headers, 'content-length': String(opts.body.length) }, ...(u.protocol === 'https:' && opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(c);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => finish(e));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${Math.round(opts.timeoutMs / 1000)} s`));
    }, opts.timeoutMs);
    req.on('error', (e) => finish(e));
    req.end(opts.body);
  });
}

/** Whether trying the same request later can help, by HTTP status (2xx callers handle themselves). */
export function isRetryableHttpStatus(status: number): boolean {
  // 408 Request Timeout, 425 Too Early, 429 Too Many Requests and every 5xx are the receiver's momentary state.
  // 401/403 are not retried: our credentials come from the config and do not change until a restart, and
  // repeating a refused login can lock the account. Fix the config, restart, then "Retry dead-letters".
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** "HTTP 403 Forbidden: <the receiver's text>" (one line, at most 300 characters of the body). */
export function describeAnswer(a: PostAnswer, detail?: string): string {
  const text = detail ?? a.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 300);
  return `HTTP ${a.status}${a.statusText ? ' ' + a.statusText : ''}${text ? ': ' + text : ''}`;
}

/** A network error in words, with its code when Node gives one (ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN …). */
export function describeNetworkError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const msg = err?.message ?? String(e);
  return err?.code && !msg.includes(err.code) ? `${msg} (${err.code})` : msg;
}

/** A destination's own CA file (`caFile`), read for each delivery pass: an unreadable one fails the pass (retried). */
export function readCaFile(caFile: string | undefined): { ca?: Buffer; error?: string } {
  try {
    return { ca: caFile ? readFileSync(caFile) : undefined };
  } catch (e) {
    return { error: `caFile ${caFile}: ${errorMessage(e)}` };
  }
}

/** The bytes of one outbox row's file, or why not (permanent: a retry cannot bring a deleted file back). */
export function readPayloadFile(file: string, missing = 'payload file is missing'): { bytes: Buffer } | { error: string } {
  try {
    if (!existsSync(file)) throw new Error(missing);
    return { bytes: readFileSync(file) };
  } catch (e) {
    return { error: `${file}: ${errorMessage(e)}` };
  }
}
