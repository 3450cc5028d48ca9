/**
 * Upper-layer PDUs and DIMSE command sets built from raw bytes (PS3.8, PS3.7), for the project's own loopback SCU
 * (src/bench/nodelay-scu.ts) and the tests' hostile peer (test/helpers/rawpdu.ts). The service itself speaks
 * through dcmjs-dimse; this is for peers that must control every byte and every write.
 */

/** A PDU: type, reserved byte, 32-bit big-endian length, body. */
export function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/** A variable item of an A-ASSOCIATE PDU: type, reserved byte, 16-bit big-endian length, body. */
export function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

const ascii = (s: string) => Buffer.from(s, 'ascii');
const aeField = (s: string) => ascii(s.padEnd(16, ' ').slice(0, 16));

export interface ProposedContext {
  id: number;
  abstract: string;
  ts: string[];
}

/** A-ASSOCIATE-RQ with the DICOM application context, the proposed presentation contexts and the user items. */
export function associateRq(o: { calling: string; called: string; maxPdu: number; contexts: ProposedContext[]; implementationUid: string; implementationVersion?: string }): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  aeField(o.called).copy(fixed, 4);
  aeField(o.calling).copy(fixed, 20);
  const pcs = o.contexts.map((c) => item(0x20, Buffer.concat([Buffer.from([c.id, 0, 0, 0]), item(0x30, ascii(c.abstract)), ...c.ts.map((t) => item(0x40, ascii(t)))])));
  const max = Buffer.alloc(4);
  max.writeUInt32BE(o.maxPdu);
  const user = item(0x50, Buffer.concat([item(0x51, max), item(0x52, ascii(o.implementationUid)), ...(o.implementationVersion ? [item(0x55, ascii(o.implementationVersion))] : [])]));
  return pdu(1, Buffer.concat([fixed, item(0x10, ascii('1.2.840.10008.3.1.1.1')), ...pcs, user]));
}

/** P-DATA-TF with one PDV. */
export function pdata(pcId: number, value: Buffer, command: boolean, last = true): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt32BE(value.length + 2, 0);
  h[4] = pcId;
  h[5] = (command ? 1 : 0) | (last ? 2 : 0);
  return pdu(4, Buffer.concat([h, value]));
}

/** Implicit VR little endian command set (group 0000, group length first); priority only on a C-STORE-RQ. */
export function commandSet(fields: { field: number; messageId?: number; sopClass?: string; sopInstance?: string; hasDataset?: boolean }): Buffer {
  const el = (e: number, v: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0, 0);
    h.writeUInt16LE(e, 2);
    h.writeUInt32LE(v.length, 4);
    return Buffer.concat([h, v]);
  };
  const us = (n: number) => Buffer.from([n & 0xff, n >> 8]);
  const ui = (s: string) => ascii(s.length % 2 ? s + '\0' : s);
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
