/**
 * A small loopback C-STORE SCU written from raw PDUs (PS3.8) for benchmarks and fault tests. Unlike dcmtk's
 * storescu it sets TCP_NODELAY and hands each message to the socket in one write, so the sender does not set the
 * pace (loopback stalls ~40 ms per exchange between dcmtk peers: delayed ACK + Nagle). It sends the files' data
 * set bytes unchanged (one presentation context per SOP class + transfer syntax of the files), one C-STORE at a
 * time per association, and records for each the time from the last PDU handed to the kernel to the C-STORE-RSP.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { splitPart10 } from '../dicom/part10.js';
import { associateRq, commandSet, pdu } from '../dicom/pdu-encode.js';

export interface ScuInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The data set bytes (after the Part-10 meta group). */
  dataset: Buffer;
}

export function loadInstance(file: string): ScuInstance {
  const buf = readFileSync(file);
  const p = splitPart10(buf);
  return { sopClassUid: p.sopClassUid, sopInstanceUid: p.sopInstanceUid, transferSyntaxUid: p.transferSyntaxUid, dataset: buf.subarray(p.datasetOffset) };
}

export interface ScuResult {
  /** C-STORE-RSP with status 0x0000, by SOP Instance UID (in order). */
  succeeded: string[];
  /** Other statuses (SOP Instance UID -> status). */
  failed: Map<string, number>;
  /** Last PDU written -> C-STORE-RSP, ms, one per answered C-STORE. */
  latenciesMs: number[];
  /** Set when the association ended early (abort, close, reject, timeout). */
  error?: string;
}

const MAX_PDU_WE_ACCEPT = 256 * 1024;

function cStoreRq(messageId: number, sopClass: string, sopInstance: string): Buffer {
  return commandSet({ field: 0x0001, messageId, sopClass, sopInstance, hasDataset: true });
}

/** P-DATA-TF PDUs carrying `value` in fragments that fit the peer's maximum PDU length. */
function pdataPdus(pcId: number, value: Buffer, command: boolean, maxPdu: number): Buffer[] {
  const room = Math.max(1024, (maxPdu || MAX_PDU_WE_ACCEPT) - 6);
  const out: Buffer[] = [];
  for (let off = 0; off < value.length || (off === 0 && value.length === 0); ) {
    const n = Math.min(room, value.length - off);
    const last = off + n >= value.length;
    const h = Buffer.alloc(12);
    h[0] = 4;
    h.writeUInt32BE(n + 6, 2);
    h.writeUInt32BE(n + 2, 6);
    h[10] = pcId;
    h[11] = (command ? 1 : 0) | (last ? 2 : 0);
    out.push(h, value.subarray(off, off + n));
    off += n;
    if (n === 0) break;
  }
  return out;
}

/** Command-set element value (implicit VR LE) by element number, from a command PDV value. */
function commandValue(cmd: Buffer, element: number): Buffer | undefined {
  for (let i = 0; i + 8 <= cmd.length; ) {
    const e = cmd.readUInt16LE(i + 2);
    const len = cmd.readUInt32LE(i + 4);
    if (e === element) return cmd.subarray(i + 8, i + 8 + len);
    i += 8 + len;
  }
  return undefined;
}

class PduReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private waiters: ((p: { type: number; body: Buffer } | null) => void)[] = [];
  private queue: { type: number; body: Buffer }[] = [];
  closed = false;
  constructor(socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.have += d.length;
      for (;;) {
        if (this.have < 6) break;
        const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
        const n = all.readUInt32BE(2);
        if (all.length < 6 + n) {
          this.chunks = [all];
          break;
        }
        this.push({ type: all[0]!, body: all.subarray(6, 6 + n) });
        const rest = all.subarray(6 + n);
        this.chunks = rest.length ? [rest] : [];
        this.have = rest.length;
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }
  private push(p: { type: number; body: Buffer }): void {
    const w = this.waiters.shift();
    if (w) w(p);
    else this.queue.push(p);
  }
  next(): Promise<{ type: number; body: Buffer } | null> {
    const p = this.queue.shift();
    if (p) return Promise.resolve(p);
    if (this.closed) return Promise.resolve(null);
    return new Promise((r) => this.waiters.push(r));
  }
}

export interface ScuOptions {
  host?: string;
  port: number;
  calledAe: string;
  callingAe?: string;
  /** Give up when a reply takes longer than this (ms). */
  timeoutMs?: number;
  /** Called after each C-STORE-RSP (e.g. to count acknowledgements as they come). */
  onResponse?(sopInstanceUid: string, status: number): void;
}

/** Send `instances` over one association; resolves when released or when the association ended early. */
export async function sendInstances(instances: ScuInstance[], o: ScuOptions): Promise<ScuResult> {
  const result: ScuResult = { succeeded: [], failed: new Map(), latenciesMs: [] };
  const keys = [...new Set(instances.map((i) => `${i.sopClassUid}|${i.transferSyntaxUid}`))];
  const contexts = keys.map((k, n) => ({ id: 2 * n + 1, abstract: k.split('|')[0]!, ts: k.split('|')[1]! }));
  const socket = net.connect(o.port, o.host ?? '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', (e) => (result.error ??= e.message));
  const reader = new PduReader(socket);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const next = async () => {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<null>((r) => (timer = setTimeout(() => ((result.error ??= `no reply within ${timeoutMs} ms`), r(null)), timeoutMs)));
    const p = await Promise.race([reader.next(), t]);
    clearTimeout(timer);
    return p;
  };
  try {
    await new Promise<void>((res, rej) => (socket.once('connect', res), socket.once('error', rej)));
    socket.write(
      associateRq({
        calling: o.callingAe ?? 'NODELAYSCU',
        called: o.calledAe,
        maxPdu: MAX_PDU_WE_ACCEPT,
        contexts: contexts.map((c) => ({ id: c.id, abstract: c.abstract, ts: [c.ts] })),
        implementationUid: '1.2.826.0.1.3680043.10.1487.2',
        implementationVersion: 'OSTEO_NODELAY',
      }),
    );
    const ac = await next();
    if (!ac || ac.type !== 2) {
      result.error ??= ac ? `association not accepted (PDU type ${ac.type})` : 'closed before A-ASSOCIATE-AC';
      return result;
    }
    // A-ASSOCIATE-AC items after the 68 fixed bytes: presentation context results (0x21) and user info (0x50).
    const accepted = new Map<number, string>();
    let peerMax = 0;
    for (let i = 68; i + 4 <= ac.body.length; ) {
      const type = ac.body[i]!;
      const len = ac.body.readUInt16BE(i + 2);
      const v = ac.body.subarray(i + 4, i + 4 + len);
      if (type === 0x21 && v[2] === 0) accepted.set(v[0]!, v.subarray(4 + 4, 4 + 4 + v.readUInt16BE(6)).toString('ascii'));
      if (type === 0x50) {
        for (let j = 0; j + 4 <= v.length; ) {
          const sl = v.readUInt16BE(j + 2);
          if (v[j] === 0x51) peerMax = v.readUInt32BE(j + 4);
          j += 4 + sl;
        }
      }
      i += 4 + len;
    }
    let messageId = 0;
    for (const inst of instances) {
      const pc = contexts.find((c) => c.abstract === inst.sopClassUid && c.ts === inst.transferSyntaxUid)!;
      if (!accepted.has(pc.id)) {
        result.failed.set(inst.sopInstanceUid, -1);
        continue;
      }
      messageId = (messageId % 65535) + 1;
      const parts = [...pdataPdus(pc.id, cStoreRq(messageId, inst.sopClassUid, inst.sopInstanceUid), true, peerMax), ...pdataPdus(pc.id, inst.dataset, false, peerMax)];
      let sentAt = 0n;
      const calledAt = process.hrtime.bigint();
      socket.cork();
      for (let k = 0; k < parts.length - 1; k++) socket.write(parts[k]!);
      socket.write(parts[parts.length - 1]!, () => (sentAt = process.hrtime.bigint()));
      socket.uncork();
      const rsp = await next();
      const at = process.hrtime.bigint();
      if (!rsp || rsp.type !== 4) {
        result.error ??= rsp ? `PDU type ${rsp.type} instead of a C-STORE-RSP` : 'closed before the C-STORE-RSP';
        return result;
      }
      // One PDV: 4 length, 1 context, 1 flags, then the command set.
      const status = commandValue(rsp.body.subarray(6), 0x0900)?.readUInt16LE(0) ?? -1;
      result.latenciesMs.push(Number(at - (sentAt || calledAt)) / 1e6);
      if (status === 0) result.succeeded.push(inst.sopInstanceUid);
      else result.failed.set(inst.sopInstanceUid, status);
      o.onResponse?.(inst.sopInstanceUid, status);
    }
    socket.write(pdu(5, Buffer.alloc(4)));
    await next(); // A-RELEASE-RP (or the close)
    return result;
  } catch (e) {
    result.error ??= (e as Error).message;
    return result;
  } finally {
    socket.destroy();
  }
}
