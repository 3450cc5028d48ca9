/**
 * DICOMweb STOW-RS (PS3.18 10.5): the outbox rows of one destination go out as ONE multipart/related request
 * (type="application/dicom", each part a Part-10 file exactly as written) to `<url>/studies`; the answer decides
 * each row:
 *
 * - 200/202: a row whose SOP Instance UID is in ReferencedSOPSequence (0008,1199) is stored (warnings included);
 *   in FailedSOPSequence (0008,1198) it failed with its FailureReason (0008,1197); in neither it is NOT taken as
 *   stored (Orthanc answers 200 with an empty body when a filter refused the instance) and is retried.
 * - 409 and other 4xx: a row in FailedSOPSequence fails permanently with its reason, the others with the HTTP
 *   status and the receiver's text. FailureReason A7xx (out of resources) is retried, as for C-STORE.
 * - 401/403 are permanent (see isRetryableHttpStatus): a retry would send the same credentials.
 * - 408/425/429, 5xx, no answer (network, TLS, timeout): retried with the outbox back-off.
 * - 3xx: permanent (redirects are not followed; configure the final URL).
 * The answer may be JSON (application/dicom+json) or XML (application/dicom+xml, Native DICOM Model): both parse.
 */
import { randomBytes } from 'node:crypto';
import type { StowDestination } from '../config/schema.js';
import type { SendResult } from '../dicom/scu.js';
import { errorMessage } from '../common/errors.js';
import { describeAnswer, describeNetworkError, httpPost, isRetryableHttpStatus, readCaFile, readPayloadFile, type PostAnswer } from './http-post.js';
import { urlKey } from './keys.js';

/** The outbox's key for a STOW-RS destination: "stow:<url>" (a query string, if any, is hashed). */
export function stowKey(d: Pick<StowDestination, 'url'>): string {
  return `stow:${urlKey(d.url)}`;
}

/** One request carries at most this many bytes of files; more rows go in further requests. */
const MAX_BATCH_BYTES = 64 * 1024 * 1024;

export interface StowItem {
  path: string;
  sopUid: string;
}

export interface StowOptions {
  /** The Accept header (tests ask for XML only). */
  accept?: string;
  /** The endpoint instead of `<url>/studies` (tests post to a study to get a real refusal). */
  endpoint?: string;
}

/** The Authorization header of a destination with auth none|bearer|basic (STOW-RS, FHIR). */
export function authHeaders(d: Pick<StowDestination, 'auth' | 'token' | 'user' | 'password'>): Record<string, string> {
  if (d.auth === 'bearer') return { authorization: `Bearer ${d.token}` };
  if (d.auth === 'basic') return { authorization: 'Basic ' + Buffer.from(`${d.user}:${d.password ?? ''}`).toString('base64') };
  return {};
}

/** multipart/related body of Part-10 files, with a boundary that occurs in none of them. */
export function multipartRelated(files: Buffer[]): { contentType: string; body: Buffer } {
  let boundary: string;
  do boundary = `osteoscreen-${randomBytes(16).toString('hex')}`;
  while (files.some((f) => f.includes(boundary)));
  const parts: Buffer[] = [];
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), f, Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`, body: Buffer.concat(parts) };
}

/** Send items to a STOW-RS destination; one result per item, in input order. Never rejects. */
export async function sendStow(dest: StowDestination, items: StowItem[], opts: StowOptions = {}): Promise<SendResult[]> {
  const results: (SendResult | undefined)[] = items.map(() => undefined);
  const { ca, error } = readCaFile(dest.caFile);
  if (error) return items.map((it) => ({ file: it.path, ok: false, error, retryable: true }));
  // Read the files; an unreadable one fails alone (permanently: retrying cannot bring it back).
  const batches: { index: number; bytes: Buffer }[][] = [[]];
  let size = 0;
  items.forEach((it, i) => {
    const file = readPayloadFile(it.path, 'output file is missing');
    if ('error' in file) {
      results[i] = { file: it.path, ok: false, error: file.error, retryable: false };
      return;
    }
    const bytes = file.bytes;
    if (size + bytes.length > MAX_BATCH_BYTES && batches.at(-1)!.length) {
      batches.push([]);
      size = 0;
    }
    batches.at(-1)!.push({ index: i, bytes });
    size += bytes.length;
  });
  for (const batch of batches) {
    if (!batch.length) continue;
    const { contentType, body } = multipartRelated(batch.map((b) => b.bytes));
    let answer: PostAnswer | undefined;
    let failure: string | undefined;
    try {
      answer = await httpPost(opts.endpoint ?? `${dest.url}/studies`, {
        headers: { 'content-type': contentType, accept: opts.accept ?? 'application/dicom+json, application/dicom+xml', ...authHeaders(dest) },
        body,
        ca,
        timeoutMs: dest.timeoutSeconds * 1000,
      });
    } catch (e) {
      failure = describeNetworkError(e);
    }
    const decided = answer ? interpretStowAnswer(answer, batch.map((b) => items[b.index]!.sopUid)) : batch.map(() => ({ ok: false, error: failure!, retryable: true }));
    batch.forEach((b, k) => (results[b.index] = { file: items[b.index]!.path, ...decided[k]! }));
  }
  return results.map((r) => r!);
}

interface Outcome {
  ok: boolean;
  error?: string;
  retryable?: boolean;
  status?: number;
}

/** Decide each SOP Instance UID of one request from the receiver's answer. */
export function interpretStowAnswer(answer: PostAnswer, sopUids: string[]): Outcome[] {
  const s = answer.status;
  if (s >= 300 && s < 400) return sopUids.map(() => ({ ok: false, error: describeAnswer(answer, `redirected to ${answer.headers.location ?? '?'}; configure that URL`), retryable: false }));
  if (s >= 500 || s < 200) return sopUids.map(() => ({ ok: false, error: describeAnswer(answer), retryable: true }));
  let parsed: StowResponse | undefined;
  let parseError: string | undefined;
  try {
    parsed = answer.body.length ? parseStowResponse(String(answer.headers['content-type'] ?? ''), answer.body) : { stored: new Map(), failed: new Map() };
  } catch (e) {
    parseError = errorMessage(e);
  }
  return sopUids.map((uid) => {
    const failed = parsed?.failed.get(uid);
    if (failed !== undefined) {
      return { ok: false, status: failed, error: `${describeAnswer(answer, '')}: refused, FailureReason ${failureReason(failed)}`, retryable: (failed & 0xff00) === 0xa700 };
    }
    if (s < 300) {
      if (parsed?.stored.has(uid)) return { ok: true, status: parsed.stored.get(uid) ?? 0 };
      return { ok: false, error: parseError ? `HTTP ${s}, unreadable STOW-RS answer: ${parseError}` : `HTTP ${s} but the answer does not list this instance as stored`, retryable: true };
    }
    return { ok: false, error: describeAnswer(answer), retryable: isRetryableHttpStatus(s) };
  });
}

/** FailureReason (0008,1197) in words (PS3.18 table I.2-1 / PS3.4 C-STORE statuses). */
export function failureReason(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  const known: [number, number, string][] = [
    [0xff00, 0xa700, 'out of resources'],
    [0xff00, 0xa900, 'data set does not match SOP class'],
    [0xf000, 0xc000, 'cannot understand'],
    [0xffff, 0x0110, 'processing failure'],
    [0xffff, 0x0122, 'SOP class not supported'],
    [0xffff, 0x0124, 'not authorized'],
    [0xffff, 0xc122, 'transfer syntax not supported'],
  ];
  const m = known.find(([mask, v]) => (code & mask) === v);
  return `${hex}H${m ? ` (${m[2]})` : ''}`;
}

export interface StowResponse {
  /** SOP Instance UID -> WarningReason (0 when none). */
  stored: Map<string, number>;
  /** SOP Instance UID -> FailureReason. */
  failed: Map<string, number>;
}

type JsonDataset = Record<string, { vr?: string; Value?: unknown[] }>;

/** The Store Instances Response Module from a JSON or XML answer. */
export function parseStowResponse(contentType: string, body: Buffer): StowResponse {
  const text = body.toString('utf8');
  const ds: JsonDataset = /xml/i.test(contentType) || text.trimStart().startsWith('<') ? parseNativeXml(text) : (JSON.parse(text) as JsonDataset);
  if (!ds || typeof ds !== 'object' || Array.isArray(ds)) throw new Error('not a DICOM JSON data set');
  const items = (tag: string) => ((ds[tag]?.Value ?? []) as JsonDataset[]).filter((x) => x && typeof x === 'object');
  const first = (item: JsonDataset, tag: string) => item[tag]?.Value?.[0];
  const out: StowResponse = { stored: new Map(), failed: new Map() };
  for (const it of items('00081199')) {
    const uid = first(it, '00081155');
    if (typeof uid === 'string') out.stored.set(uid, Number(first(it, '00081196') ?? 0));
  }
  for (const it of items('00081198')) {
    const uid = first(it, '00081155');
    if (typeof uid === 'string') out.failed.set(uid, Number(first(it, '00081197') ?? 0x0110));
  }
  return out;
}

/**
 * PS3.19 Native DICOM Model XML -> the JSON model's shape ({tag: {vr, Value}}), enough for STOW-RS answers:
 * DicomAttribute / Item / Value elements, entities decoded; anything else is ignored.
 */
export function parseNativeXml(xml: string): JsonDataset {
  if (!/<NativeDicomModel\b/.test(xml)) throw new Error('not a NativeDicomModel XML document');
  const root: JsonDataset = {};
  const datasets: JsonDataset[] = [root];
  const attrs: { vr: string; Value: unknown[] }[] = [];
  let valueText: string | null = null;
  const re = /<(\/?)(DicomAttribute|Item|Value)\b([^>]*?)(\/?)>|([^<]+)|<[^>]*>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const [, close, name, attrText, selfClose, text] = m;
    if (text !== undefined) {
      if (valueText !== null) valueText += text;
      continue;
    }
    if (!name) continue;
    const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(attrText ?? '')?.[1];
    if (name === 'DicomAttribute') {
      if (close) attrs.pop();
      else {
        const a = { vr: attr('vr') ?? 'UN', Value: [] as unknown[] };
        const tag = (attr('tag') ?? '').toUpperCase();
        datasets.at(-1)![tag] = a;
        if (!selfClose) attrs.push(a);
      }
    } else if (name === 'Item') {
      if (close) datasets.pop();
      else {
        const item: JsonDataset = {};
        attrs.at(-1)?.Value.push(item);
        if (!selfClose) datasets.push(item);
      }
    } else if (name === 'Value') {
      const a = attrs.at(-1);
      if (close) {
        if (a && valueText !== null && a.vr !== 'SQ') {
          const v = decodeEntities(valueText.trim());
          a.Value.push(/^(US|SS|UL|SL|FL|FD|IS|DS)$/.test(a.vr) ? Number(v) : v);
        }
        valueText = null;
      } else if (!selfClose) valueText = '';
    }
  }
  return root;
}

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (named[e.toLowerCase()]) return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}
