/**
 * A DICOM upper-layer peer written from raw bytes (PS3.8), for sending what a well-behaved SCU never would:
 * oversized PDUs, unknown DIMSE commands, a SOP class on another class's presentation context, idle associations.
 */
import net from 'node:net';

const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const VERIFICATION = '1.2.840.10008.1.1';
export const MR_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}
const uidItem = (type: number, uid: string) => item(type, Buffer.from(uid, 'ascii'));
const ae = (s: string) => Buffer.from(s.padEnd(16, ' ').slice(0, 16), 'ascii');

export function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

export interface Ctx {
  id: number;
  abstract: string;
  ts?: string[];
}

export function associateRq(o: { calling?: string; called?: string; maxPdu?: number; contexts: Ctx[] }): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  ae(o.called ?? 'OSTEOSCREEN').copy(fixed, 4);
  ae(o.calling ?? 'RAWPDU').copy(fixed, 20);
  const pcs = o.contexts.map((c) => item(0x20, Buffer.concat([Buffer.from([c.id, 0, 0, 0]), uidItem(0x30, c.abstract), ...(c.ts ?? [EXPLICIT_LE, IMPLICIT_LE]).map((t) => uidItem(0x40, t))])));
  const max = Buffer.alloc(4);
  max.writeUInt32BE(o.maxPdu ?? 16384);
  const user = item(0x50, Buffer.concat([item(0x51, max), uidItem(0x52, '1.2.826.0.1.3680043.9.7433.1')]));
  return pdu(1, Buffer.concat([fixed, uidItem(0x10, '1.2.840.10008.3.1.1.1'), ...pcs, user]));
}

/** P-DATA-TF with one PDV. */
export function pdata(pcId: number, value: Buffer, command: boolean, last = true): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt32BE(value.length + 2, 0);
  h[4] = pcId;
  h[5] = (command ? 1 : 0) | (last ? 2 : 0);
  return pdu(4, Buffer.concat([h, value]));
}

/** Implicit VR little endian command set (group 0000, group length first). */
export function commandSet(fields: { field: number; messageId?: number; sopClass?: string; sopInstance?: string; hasDataset?: boolean }): Buffer {
  const el = (e: number, v: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0, 0);
    h.writeUInt16LE(e, 2);
    h.writeUInt32LE(v.length, 4);
    return Buffer.concat([h, v]);
  };
  const us = (n: number) => Buffer.from([n & 0xff, n >> 8]);
  const ui = (s: string) => Buffer.from(s.length % 2 ? s + '\0' : s, 'ascii');
  const body = Buffer.concat([
    ...(fields.sopClass ? [el(0x0002, ui(fields.sopClass))] : []),
    el(0x0100, us(fields.field)),
    el(0x0110, us(fields.messageId ?? 1)),
    ...(fields.field === 0x0001 ? [el(0x0700, us(0))] : []),
    el(0x0800, us(fields.hasDataset ? 0x0000 : 0x0101)),
    ...(fields.sopInstance ? [el(0x1000, ui(fields.sopInstance))] : []),
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  return Buffer.concat([el(0x0000, len), body]);
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
