/**
 * C-STORE / C-ECHO service class user (dcmjs-dimse).
 *
 * `sendFiles(dest, files)` sends Part-10 files over ONE association and resolves (never rejects) with one result
 * per file, in input order. `ok` is true for Success (0000) and the storage warning statuses (0001, Bxxx).
 * `retryable` tells the outbox whether trying again later can help: network errors, timeouts, transient
 * association rejections and "out of resources" (A7xx) are retryable; a refused SOP class or a data set the
 * peer cannot understand (A9xx, Cxxx, 0122 …) and unreadable local files are not.
 * The data set goes out exactly as stored in the file (`RawDataset`, see raw-dataset.ts), never re-encoded.
 * The persistent outbox / retry policy lives in the pipeline, on top of this.
 */
import dimse from 'dcmjs-dimse';
import { existsSync, readFileSync } from 'node:fs';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { RawDataset } from './raw-dataset.js';

dimse.log.setLevel('error');
const log = logger('dicom:scu');

export interface ScuDestination {
  /** Called AE title (the PACS). */
  aeTitle: string;
  host: string;
  port: number;
  /** Our AE title as the caller. */
  callingAeTitle: string;
}

export interface SendResult {
  file: string;
  ok: boolean;
  /** DIMSE status of the C-STORE response, when one arrived. */
  status?: number;
  error?: string;
  /** Whether a later retry may succeed (false for permanent refusals and unreadable files). */
  retryable?: boolean;
}

export interface ScuOptions {
  /** Overall limit for the whole exchange, and per-step network timeouts (default 30 s). */
  timeoutMs?: number;
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

export function isStoreSuccess(status: number): boolean {
  return status === 0x0000 || status === 0x0001 || (status & 0xf000) === 0xb000;
}

/** Failure statuses where retrying later can help (out of resources). */
export function isRetryableStatus(status: number): boolean {
  return (status & 0xff00) === 0xa700 || status === 0x0213 /* resource limitation */;
}

/**
 * An A-ASSOCIATE-RJ in words (PS3.8 table 9-21: the reason code's meaning depends on its source), e.g.
 * "permanent; service user: called AE title not recognized (result 1, source 1, reason 7)".
 */
export function describeReject(r: { result?: number; source?: number; reason?: number } | undefined): string {
  const result = r?.result === 1 ? 'permanent' : r?.result === 2 ? 'transient' : 'unknown result';
  const reasons: Record<number, [string, Record<number, string>]> = {
    1: ['service user', { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' }],
    2: ['service provider (ACSE)', { 1: 'no reason given', 2: 'protocol version not supported' }],
    3: ['service provider (presentation)', { 1: 'temporary congestion', 2: 'local limit exceeded' }],
  };
  const [source, byReason] = reasons[r?.source ?? 0] ?? ['unknown source', {}];
  const reason = byReason[r?.reason ?? 0] ?? 'unknown reason';
  return `${result}; ${source}: ${reason} (result ${r?.result}, source ${r?.source}, reason ${r?.reason})`;
}

function clientOpts(timeoutMs: number) {
  return {
    connectTimeout: timeoutMs,
    associationTimeout: timeoutMs,
    pduTimeout: timeoutMs,
    associationLingerTimeout: 0,
  };
}

export type DimseClient = InstanceType<typeof dimse.Client>;

/** How one association ended badly; each hook runs at most as often as its event fires. */
export interface AssociationHooks {
  /** `timeoutMs` elapsed: the association is aborted and the promise resolves 200 ms later. */
  onTimeout(): void;
  /** A network error: the promise resolves right after. */
  onNetworkError(e: Error): void;
  /** `client.send` threw: the promise resolves right after. */
  onStartError(e: unknown): void;
}

/**
 * Open the association (requests already added, other listeners already attached) and wait until it closes,
 * fails on the network, cannot start, or times out (then it is aborted). Never rejects.
 */
export function runAssociation(client: DimseClient, dest: ScuDestination, timeoutMs: number, hooks: AssociationHooks): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      hooks.onTimeout();
      try {
        client.abort();
      } catch {
        /* not connected yet */
      }
      setTimeout(finish, 200).unref();
    }, timeoutMs);
    client.on('networkError', (e: Error) => {
      hooks.onNetworkError(e);
      finish();
    });
    client.on('closed', () => finish());
    try {
      client.send(dest.host, dest.port, dest.callingAeTitle, dest.aeTitle, clientOpts(timeoutMs));
    } catch (e) {
      hooks.onStartError(e);
      finish();
    }
  });
}

/** Send Part-10 files over one association. One result per input file, in input order. */
export async function sendFiles(dest: ScuDestination, files: string[], opts: ScuOptions = {}): Promise<SendResult[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const results: SendResult[] = files.map((file) => ({ file, ok: false }));
  const pending = new Set<number>();
  const client = new dimse.Client();

  files.forEach((file, k) => {
    if (!existsSync(file)) {
      results[k] = { file, ok: false, error: 'file not found', retryable: false };
      return;
    }
    let req: InstanceType<typeof dimse.requests.CStoreRequest>;
    try {
      // The stored bytes as they are (dcmjs-dimse would parse and re-encode the file, mangling UTF-8 UT text).
      req = new dimse.requests.CStoreRequest(RawDataset.fromPart10(readFileSync(file)));
    } catch (e) {
      results[k] = { file, ok: false, error: `cannot read DICOM file: ${errorMessage(e)}`, retryable: false };
      return;
    }
    pending.add(k);
    req.on('response', (resp: { getStatus(): number; getErrorComment(): string }) => {
      const status = resp.getStatus();
      if (status === 0xff00 || status === 0xff01) return; // pending, not for C-STORE but harmless
      pending.delete(k);
      const ok = isStoreSuccess(status);
      const comment = resp.getErrorComment?.();
      results[k] = ok
        ? { file, ok, status }
        : { file, ok, status, error: `C-STORE failed with status 0x${hex(status)}${comment ? `: ${comment}` : ''}`, retryable: isRetryableStatus(status) };
    });
    client.addRequest(req);
  });

  if (pending.size === 0) return results;

  const t0 = Date.now();
  let failure: { error: string; retryable: boolean } | undefined;
  let accepted = false;
  let contextsRefused = false;
  client.on('associationAccepted', (association: { getPresentationContexts?: () => { id: number }[]; getPresentationContext?: (id: number) => { getResult(): number } }) => {
    accepted = true;
    try {
      const pcs = association.getPresentationContexts?.() ?? [];
      contextsRefused = pcs.length > 0 && pcs.every((pc) => association.getPresentationContext!(pc.id).getResult() !== 0);
    } catch {
      /* keep defaults */
    }
  });
  client.on('connected', () => {
    const socket = (client as unknown as { network?: { socket?: { setNoDelay?: (v: boolean) => void } } }).network?.socket;
    socket?.setNoDelay?.(true);
  });
  client.on('associationRejected', (r: { result?: number; source?: number; reason?: number }) => {
    // result 1 = rejected-permanent, 2 = rejected-transient
    failure = {
      error: `association rejected by ${dest.aeTitle}@${dest.host}:${dest.port}: ${describeReject(r)}`,
      retryable: r?.result !== 1,
    };
  });
  await runAssociation(client, dest, timeoutMs, {
    onTimeout: () => {
      failure ??= { error: `timed out after ${timeoutMs} ms talking to ${dest.aeTitle}@${dest.host}:${dest.port}`, retryable: true };
    },
    onNetworkError: (e) => {
      failure ??= { error: `network error sending to ${dest.aeTitle}@${dest.host}:${dest.port}: ${errorMessage(e)}`, retryable: true };
    },
    onStartError: (e) => {
      failure = { error: `cannot start association: ${errorMessage(e)}`, retryable: true };
    },
  });

  for (const k of pending) {
    results[k] = {
      file: files[k]!,
      ok: false,
      // No response and no explicit failure: a refused presentation context is permanent; an association that
      // was dropped (never accepted, or closed before answering: a PACS behind a proxy that is down) is retried.
      error:
        failure?.error ??
        (contextsRefused
          ? 'no C-STORE response: the destination accepted no presentation context for this SOP class'
          : accepted
            ? 'no C-STORE response: the association ended before the destination answered'
            : 'no C-STORE response: the connection closed before the association was accepted'),
      retryable: failure?.retryable ?? !contextsRefused,
    };
  }
  const okCount = results.filter((r) => r.ok).length;
  const fields = { calledAe: dest.aeTitle, host: dest.host, port: dest.port, files: files.length, ok: okCount, ms: Date.now() - t0 };
  if (okCount === files.length) log.info('C-STORE finished', fields);
  else log.warn('C-STORE finished with failures', { ...fields, firstError: results.find((r) => !r.ok)?.error });
  return results;
}

/** C-ECHO: checks that the destination answers. Never rejects. */
export async function echo(dest: ScuDestination, opts: ScuOptions = {}): Promise<{ ok: boolean; status?: number; error?: string; ms: number }> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const t0 = Date.now();
  const client = new dimse.Client();
  const req = new dimse.requests.CEchoRequest();
  let status: number | undefined;
  let error: string | undefined;
  req.on('response', (resp: { getStatus(): number }) => {
    status = resp.getStatus();
  });
  client.addRequest(req);
  client.on('associationRejected', (r: { result?: number; source?: number; reason?: number }) => {
    error = `association rejected: ${describeReject(r)}`;
  });
  await runAssociation(client, dest, timeoutMs, {
    onTimeout: () => {
      error ??= `timed out after ${timeoutMs} ms`;
    },
    onNetworkError: (e) => {
      error ??= `network error: ${errorMessage(e)}`;
    },
    onStartError: (e) => {
      error = `cannot start association: ${errorMessage(e)}`;
    },
  });
  const ok = status === 0 && !error;
  return { ok, status, error: ok ? undefined : (error ?? (status === undefined ? 'no C-ECHO response' : `C-ECHO status 0x${hex(status)}`)), ms: Date.now() - t0 };
}
