/**
 * A DICOM upper-layer peer written from raw bytes (PS3.8), for sending what a well-behaved SCU never would:
 * oversized PDUs, unknown DIMSE commands, a SOP class on another class's presentation context, idle associations.
 */
import net from 'node:net';
import { associateRq as encodeAssociateRq, commandSet, pdata, pdu } from '../../src/dicom/pdu-encode.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const VERIFICATION = '1.2.840.10008.1.1';
export const MR_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export { pdu, pdata, commandSet };

export interface Ctx {
  id: number;
  abstract: string;
  ts?: string[];
}

export function associateRq(o: { calling?: string; called?: string; maxPdu?: number; contexts: Ctx[] }): Buffer {
  return encodeAssociateRq({
    calling: o.calling ?? 'RAWPDU',
    called: o.called ?? 'OSTEOSCREEN',
    maxPdu: o.maxPdu ?? 16384,
    contexts: o.contexts.map((c) => ({ id: c.id, abstract: c.abstract, ts: c.ts ?? [EXPLICIT_LE, IMPLICIT_LE] })),
    implementationUid: '1.2.826.0.1.3680043.9.7433.1',
  });
}

/** One raw connection: send bytes, wait for PDUs or for the close. */
export class RawPeer {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  closed = false;
  readonly closedAt: Promise<void>;
  pdus: { type: number; body: Buffer }[] = [];
  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect(port, host);
    this.socket.on('error', () => undefined);
    this.socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 6 && this.buf.length >= 6 + this.buf.readUInt32BE(2)) {
        const n = this.buf.readUInt32BE(2);
        this.pdus.push({ type: this.buf[0]!, body: this.buf.subarray(6, 6 + n) });
        this.buf = this.buf.subarray(6 + n);
      }
    });
    this.closedAt = new Promise((r) => this.socket.on('close', () => ((this.closed = true), r())));
  }
  connected(): Promise<void> {
    return new Promise((res, rej) => {
      if (this.socket.readyState === 'open') return res();
      this.socket.once('connect', () => res());
      this.socket.once('error', rej);
    });
  }
  send(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }
  /** Resolve with the first PDU of one of `types` (or reject on close/timeout). */
  async next(types: number[], timeoutMs = 10_000): Promise<{ type: number; body: Buffer }> {
    const t0 = Date.now();
    for (;;) {
      const i = this.pdus.findIndex((p) => types.includes(p.type));
      if (i >= 0) return this.pdus.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`closed before PDU type ${types}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no PDU type ${types} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** A-ASSOCIATE-RQ, expect an A-ASSOCIATE-AC. */
  async associate(o: Parameters<typeof associateRq>[0]): Promise<void> {
    await this.connected();
    this.send(associateRq(o));
    const p = await this.next([2, 3, 7]);
    if (p.type !== 2) throw new Error(`association not accepted (PDU type ${p.type})`);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/** The DIMSE status of a response command set (0000,0900), or undefined. */
export function dimseStatus(pdataBody: Buffer): number | undefined {
  const v = pdataBody.subarray(6);
  for (let i = 0; i + 8 <= v.length; ) {
    const e = v.readUInt16LE(i + 2);
    const len = v.readUInt32LE(i + 4);
    if (e === 0x0900) return v.readUInt16LE(i + 8);
    i += 8 + len;
  }
  return undefined;
}
