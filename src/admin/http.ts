import http from 'node:http';
import { logger } from '../common/log.js';
import { errorMessage, OsteoError } from '../common/errors.js';
import { bearer, tokenId, tokenMatches } from './auth.js';

const log = logger('http');

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  ip: string;
  actor: string;
  raw: http.IncomingMessage;
}
export interface Reply {
  status?: number;
  json?: unknown;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}
export type Handler = (req: Request) => Promise<Reply> | Reply;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  pattern: string; // e.g. /api/studies/:uid
  auth: boolean;
  handler: Handler;
}

function compile(pattern: string): { re: RegExp; keys: string[] } {
  const keys: string[] = [];
  const re = new RegExp(
    '^' +
      pattern.replace(/\/:([A-Za-z]+)/g, (_m, k: string) => {
        keys.push(k);
        return '/([^/]+)';
      }) +
      '/?$',
  );
  return { re, keys };
}

async function readBody(req: http.IncomingMessage, limit = 1_000_000): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new OsteoError('too-large', 'request body too large', 413);
    chunks.push(c as Buffer);
  }
  if (!size) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new OsteoError('bad-json', 'request body is not valid JSON', 400);
  }
}

/** A tiny router: bearer-token auth per route, JSON in/out, errors mapped to status codes. */
export function createHttpServer(routes: Route[], token: string): http.Server {
  const compiled = routes.map((r) => ({ ...r, ...compile(r.pattern) }));
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const ip = String(req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const send = (status: number, r: Reply) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      const headers: Record<string, string> = { 'cache-control': 'no-store', ...r.headers };
      let body: string | Buffer = '';
      if (r.json !== undefined) {
        body = JSON.stringify(r.json, null, 1);
        headers['content-type'] = 'application/json; charset=utf-8';
      } else if (r.body !== undefined) {
        body = r.body;
        headers['content-type'] = r.contentType ?? 'text/plain; charset=utf-8';
      }
      res.writeHead(status, headers);
      res.end(body);
    };
    let pathname = '(unparsed)';
    try {
      const url = parseRequestUrl(req.url);
      pathname = url.pathname;
      let matchedPath = false;
      for (const r of compiled) {
        const m = r.re.exec(url.pathname);
        if (!m) continue;
        matchedPath = true;
        if (r.method !== req.method) continue;
        let actor = 'anonymous';
        if (r.auth) {
          const presented = bearer(req.headers.authorization);
          if (!tokenMatches(presented, token)) {
            send(401, { json: { error: 'unauthorized', message: 'missing or wrong bearer token' }, headers: { 'www-authenticate': 'Bearer' } });
            return;
          }
          actor = tokenId(presented!);
        }
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => (params[k] = decodeParam(m[i + 1]!)));
        const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : undefined;
        const reply = await r.handler({ method: req.method!, path: url.pathname, params, query: url.searchParams, body, ip, actor, raw: req });
        send(reply.status ?? 200, reply);
        return;
      }
      send(matchedPath ? 405 : 404, { json: { error: matchedPath ? 'method not allowed' : 'not found' } });
    } catch (e) {
      const coded = e instanceof OsteoError && e.httpStatus !== 500; // an explicitly chosen status carries an authored message
      // Internal messages (SQLite, file paths, stack details) stay in the log; the client gets a generic one.
      if (!coded) log.error('request failed', { path: pathname.slice(0, 200), error: errorMessage(e) });
      if (coded) send(e.httpStatus, { json: { error: e.code, message: e.message } });
      else send(500, { json: { error: 'internal', message: 'internal error (see the service log)' } });
    }
  };
  const server = http.createServer((req, res) => {
    // No request may end the process: whatever escapes the handler is logged and answered.
    handle(req, res).catch((e) => {
      log.error('request handler failed', { error: errorMessage(e) });
      try {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"error":"internal"}');
      } catch {
        res.destroy();
      }
    });
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/** The request target as a URL; a target that does not parse (e.g. "http://[") is a 400. */
function parseRequestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new OsteoError('bad-request', 'request target is not a valid URL', 400);
  }
}

function decodeParam(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    throw new OsteoError('bad-request', 'path parameter is not valid percent-encoding', 400);
  }
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `HTTP port ${port} is already in use (set http.port or OSTEOSCREEN_HTTP_PORT)` : `HTTP server failed: ${e.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
