/** PDU guard (issue 14): headers are checked however the bytes are split into chunks. */
import { describe, it, expect } from 'vitest';
import { PduGuard, PduAssembler, MAX_ASSOCIATE_RQ_LENGTH } from '../../src/dicom/pdu-guard.js';

const hdr = (type: number, len: number) => {
  const b = Buffer.alloc(6);
  b[0] = type;
  b.writeUInt32BE(len >>> 0, 2);
  return b;
};
const pdu = (type: number, len: number) => Buffer.concat([hdr(type, len), Buffer.alloc(len)]);

/** Feed `bytes` in chunks; the association counts as accepted (limit `max`) from the start unless `max` is null. */
function feed(bytes: Buffer, chunk: number, max: number | null = 16384) {
  const reasons: string[] = [];
  const g = new PduGuard({ maxPduLength: () => max ?? undefined, onViolation: (r) => reasons.push(r) });
  let passed = 0;
  for (let i = 0; i < bytes.length; i += chunk) {
    const c = bytes.subarray(i, i + chunk);
    if (!g.accept(c)) break;
    passed += c.length;
  }
  return { reasons, passed };
}

describe('PduGuard', () => {
  it('passes a well-formed exchange split at every chunk size', () => {
    const stream = Buffer.concat([pdu(1, 68), pdu(4, 16384), pdu(4, 100), pdu(5, 4)]);
    for (const size of [1, 5, 6, 7, 1000, stream.length]) expect(feed(stream, size).reasons, `chunk ${size}`).toEqual([]);
  });
  it('refuses a bogus 4 GB A-ASSOCIATE-RQ after its 6-byte header, and a P-DATA-TF over the limit', () => {
    expect(feed(Buffer.concat([hdr(1, 0xfffffff0), Buffer.alloc(100)]), 3).reasons[0]).toMatch(/A-ASSOCIATE-RQ claims 4294967280 bytes/);
    expect(feed(Buffer.concat([hdr(1, MAX_ASSOCIATE_RQ_LENGTH + 1)]), 6).passed).toBe(0);
    expect(feed(Buffer.concat([pdu(1, 68), hdr(4, 40966)]), 4096).reasons[0]).toMatch(/exceeds the advertised maximum 16384/);
  });
  it('refuses PDUs out of order or of unknown type', () => {
    expect(feed(pdu(4, 10), 100).reasons[0]).toMatch(/expected an A-ASSOCIATE-RQ/);
    expect(feed(Buffer.concat([pdu(1, 68), pdu(4, 10)]), 1000, null).reasons[0]).toMatch(/P-DATA-TF before the association was accepted/);
    expect(feed(Buffer.concat([pdu(1, 68), pdu(1, 68)]), 1000).reasons[0]).toMatch(/second A-ASSOCIATE-RQ/);
    expect(feed(Buffer.concat([pdu(1, 68), pdu(9, 4)]), 1000).reasons[0]).toMatch(/unknown PDU type 9/);
    expect(feed(Buffer.concat([pdu(1, 68), hdr(7, 1 << 20)]), 1000).reasons[0]).toMatch(/PDU type 7 claims/);
  });
});

describe('PduAssembler', () => {
  it('hands on whole PDUs, one each, however the stream is split into chunks', () => {
    const pdus = [pdu(1, 68), pdu(4, 16384), pdu(4, 100), pdu(4, 0), pdu(5, 4)].map((p, k) => (p.fill(k + 1, 6), p));
    const stream = Buffer.concat(pdus);
    for (const size of [1, 5, 6, 7, 100, 1000, 16390, stream.length]) {
      const a = new PduAssembler();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...a.push(stream.subarray(i, i + size)));
      expect(out.map((b) => b.toString('hex')), `chunk ${size}`).toEqual(pdus.map((b) => b.toString('hex')));
    }
  });

  it('gives a PDU copied out of several chunks the headroom asked for, in a buffer of its own (owns)', () => {
    const big = pdu(4, 20000);
    big.fill(7, 6);
    const a = new PduAssembler((type) => (type === 4 ? 300 : 0));
    const out: Buffer[] = [];
    for (let i = 0; i < big.length; i += 8192) a.push(big.subarray(i, i + 8192), (p) => out.push(p));
    expect(out.length).toBe(1);
    expect(out[0]!.equals(big)).toBe(true);
    expect(out[0]!.byteOffset).toBe(300);
    expect(out[0]!.buffer.byteLength).toBe(300 + big.length);
    expect(a.owns(out[0]!)).toBe(true);
    // a PDU inside one chunk is a view of it: not owned
    const small = Buffer.concat([pdu(4, 100), pdu(4, 100)]);
    const views = a.push(small);
    expect(views.length).toBe(2);
    expect(views.some((v) => a.owns(v))).toBe(false);
  });
});
