/**
 * The listener's own DIMSE bytes (issue 28): PDVs, command sets and responses, checked against what dcmjs-dimse
 * itself encodes (the library the listener answered through before) and against the project's PDU encoder.
 */
import { describe, it, expect } from 'vitest';
import dimse from 'dcmjs-dimse';
import { parsePdvs, parseCommandSet, responsePdu, responseCommandSet, hasDataSet, COMMAND } from '../../src/dicom/dimse-fast.js';
import { DimseReceiver, type DataSetConsumer } from '../../src/dicom/dimse-receiver.js';
import { pdata, commandSet, pdu } from '../../src/dicom/pdu-encode.js';

const { requests, responses, Dataset } = dimse as any;
const MR = '1.2.840.10008.5.1.4.1.1.4';
const VERIFICATION = '1.2.840.10008.1.1';

/** The library's command set bytes for a request or response object. */
const libraryBytes = (cmd: any) => Buffer.from(cmd.getCommandDataset().getDenaturalizedCommandDataset());

function libraryStoreRequest(sop: string, messageId: number) {
  const req = new requests.CStoreRequest(new Dataset({ SOPClassUID: MR, SOPInstanceUID: sop }, '1.2.840.10008.1.2.1'));
  req.setMessageId(messageId);
  return req;
}

describe('PDVs of a P-DATA-TF PDU', () => {
  it('reads presentation context, command and last bits, and the values in place', () => {
    const two = pdu(4, Buffer.concat([pdata(1, Buffer.from('abc'), false, true).subarray(6), pdata(3, Buffer.from('xy'), true, false).subarray(6)]));
    const pdvs = parsePdvs(two);
    expect(Array.isArray(pdvs)).toBe(true);
    expect((pdvs as any[]).map((p) => [p.presentationContextId, p.command, p.last, p.value.toString()])).toEqual([
      [1, false, true, 'abc'],
      [3, true, false, 'xy'],
    ]);
    expect((pdvs as any[])[0].value.buffer).toBe(two.buffer); // a view, not a copy
  });
  it('names what is wrong with a malformed PDV', () => {
    expect(parsePdvs(pdu(4, Buffer.alloc(0)))).toMatch(/without a PDV/);
    expect(parsePdvs(pdu(4, Buffer.from([0, 0, 0, 1, 1])))).toMatch(/cut at byte/);
    expect(parsePdvs(pdu(4, Buffer.from([0, 0, 0, 1, 1, 3])))).toMatch(/item length 1/);
    expect(parsePdvs(pdu(4, Buffer.from([0, 0, 0, 9, 1, 3, 0])))).toMatch(/runs past the end/);
    expect(parsePdvs(pdu(4, Buffer.from([0, 0, 0, 2, 1, 0x13])))).toMatch(/reserved bits/);
  });
});

describe('command sets', () => {
  it("reads a C-STORE-RQ as dcmjs-dimse encodes it and as the project's SCU encodes it", () => {
    const sop = '1.2.826.0.1.3680043.2.1125.1.12345';
    for (const bytes of [libraryBytes(libraryStoreRequest(sop, 42)), commandSet({ field: 1, messageId: 42, sopClass: MR, sopInstance: sop, hasDataset: true })]) {
      const c = parseCommandSet(bytes);
      if (typeof c === 'string') throw new Error(c);
      expect([c.field, c.messageId, c.sopClassUid, c.sopInstanceUid, hasDataSet(c)]).toEqual([COMMAND.CStoreRq, 42, MR, sop, true]);
    }
  });
  it('reads a C-ECHO-RQ (no data set)', () => {
    const req = new requests.CEchoRequest();
    req.setMessageId(7);
    const c = parseCommandSet(libraryBytes(req));
    if (typeof c === 'string') throw new Error(c);
    expect([c.field, c.messageId, c.sopClassUid, hasDataSet(c)]).toEqual([COMMAND.CEchoRq, 7, VERIFICATION, false]);
  });
  it('refuses a command set that is cut, leaves group 0000 or has no CommandField', () => {
    const ok = commandSet({ field: 0x30 });
    expect(parseCommandSet(ok.subarray(0, ok.length - 3))).toMatch(/cut at byte|runs past the end/);
    const other = Buffer.from(ok);
    other.writeUInt16LE(0x0008, 12); // the second element's group
    expect(parseCommandSet(other)).toMatch(/outside group 0000/);
    expect(parseCommandSet(Buffer.from([0, 0, 0x10, 0x01, 2, 0, 0, 0, 1, 0]))).toMatch(/without CommandField/);
  });
});

describe('responses', () => {
  it('C-STORE-RSP: the same bytes as dcmjs-dimse (success, and a failure with an error comment; odd and even UIDs)', () => {
    for (const sop of ['1.2.3.4.5', '1.2.3.4.56']) {
      for (const [status, comment] of [
        [0x0000, undefined],
        [0xc000, 'truncated or malformed dataset: x'],
        [0xa700, 'odd-length comment'],
      ] as const) {
        const req = libraryStoreRequest(sop, 9);
        const rsp = responses.CStoreResponse.fromRequest(req);
        rsp.setStatus(status);
        if (comment) rsp.setErrorComment(comment);
        const ours = responseCommandSet({ field: COMMAND.CStoreRsp, messageIdBeingRespondedTo: 9, sopClassUid: MR, sopInstanceUid: sop, status, errorComment: comment });
        expect(ours.toString('hex'), `${sop} ${status}`).toBe(libraryBytes(rsp).toString('hex'));
      }
    }
  });
  it("C-STORE-RSP echoes the request's UID bytes as sent", () => {
    const c = parseCommandSet(commandSet({ field: 1, messageId: 3, sopClass: MR, sopInstance: '1.2.3', hasDataset: true }));
    if (typeof c === 'string') throw new Error(c);
    const b = responseCommandSet({ field: COMMAND.CStoreRsp, messageIdBeingRespondedTo: 3, sopClassUid: c.rawSopClassUid!, sopInstanceUid: c.rawSopInstanceUid!, status: 0 });
    const back = parseCommandSet(b);
    if (typeof back === 'string') throw new Error(back);
    expect([back.field, back.sopClassUid, back.sopInstanceUid]).toEqual([COMMAND.CStoreRsp, MR, '1.2.3']);
    expect(b.readUInt32LE(8)).toBe(b.length - 12); // group length
  });
  it('C-ECHO-RSP: the same bytes as dcmjs-dimse, in one P-DATA-TF PDU with a last command fragment', () => {
    const req = new requests.CEchoRequest();
    req.setMessageId(5);
    const rsp = responses.CEchoResponse.fromRequest(req);
    rsp.setStatus(0);
    const p = responsePdu({ presentationContextId: 3, field: COMMAND.CEchoRsp, messageIdBeingRespondedTo: 5, sopClassUid: VERIFICATION, status: 0 });
    const pdvs = parsePdvs(p);
    if (typeof pdvs === 'string') throw new Error(pdvs);
    expect(p[0]).toBe(4);
    expect(pdvs.map((x) => [x.presentationContextId, x.command, x.last])).toEqual([[3, true, true]]);
    expect(pdvs[0]!.value.toString('hex')).toBe(libraryBytes(rsp).toString('hex'));
  });
});

describe('DimseReceiver', () => {
  const contexts = new Map([
    [1, { abstractSyntax: MR, transferSyntax: '1.2.840.10008.1.2.1' }],
    [3, { abstractSyntax: MR, transferSyntax: '1.2.840.10008.1.2' }],
  ]);
  function receiver() {
    const got: { pc: number; sop: string; data: Buffer[]; ended: boolean }[] = [];
    const violations: string[] = [];
    const rx = new DimseReceiver({
      context: (id) => contexts.get(id),
      violation: (r, protocol) => violations.push(protocol ? r : `refused: ${r}`),
      command: (pc, cmd): DataSetConsumer | string | undefined => {
        if (cmd.field === 0x7777) return 'unsupported';
        if (!hasDataSet(cmd)) return undefined;
        const m = { pc, sop: cmd.sopInstanceUid, data: [] as Buffer[], ended: false };
        got.push(m);
        return { data: (f) => m.data.push(Buffer.from(f)), end: () => (m.ended = true) };
      },
    });
    return { rx, got, violations };
  }
  const store = (sop: string) => commandSet({ field: 1, messageId: 1, sopClass: MR, sopInstance: sop, hasDataset: true });

  it('assembles commands split over PDUs and data sets over many PDUs, on two presentation contexts, several PDVs per PDU', () => {
    const { rx, got, violations } = receiver();
    const a = store('1.1');
    const b = store('1.2');
    const dataA = Buffer.from('A'.repeat(1000));
    const dataB = Buffer.from('B'.repeat(10));
    rx.pdata(pdata(1, a.subarray(0, 10), true, false));
    rx.pdata(pdata(1, a.subarray(10), true, true));
    for (let i = 0; i < 1000; i += 100) rx.pdata(pdata(1, dataA.subarray(i, i + 100), false, i + 100 >= 1000));
    // the end of nothing and the next message in one PDU: command on context 3 and its whole data set
    rx.pdata(pdu(4, Buffer.concat([pdata(3, b, true, true).subarray(6), pdata(3, dataB.subarray(0, 4), false, false).subarray(6), pdata(3, dataB.subarray(4), false, true).subarray(6)])));
    expect(violations).toEqual([]);
    expect(got.map((g) => [g.pc, g.sop, Buffer.concat(g.data).toString(), g.ended])).toEqual([
      [1, '1.1', dataA.toString(), true],
      [3, '1.2', dataB.toString(), true],
    ]);
  });
  it('a data fragment on another context, a command during a data set, an unaccepted context or an unsupported command aborts', () => {
    const cases: [Buffer[], RegExp][] = [
      [[pdata(1, store('1'), true), pdata(3, Buffer.from('xx'), false)], /data fragment on presentation context 3 for a command on 1/],
      [[pdata(1, store('1'), true), pdata(1, Buffer.from('xx'), false, false), pdata(1, store('2'), true)], /command fragment .* while a data set/],
      [[pdata(5, store('1'), true)], /presentation context 5, which was not accepted/],
      [[pdata(1, Buffer.from('xx'), false)], /without a command/],
      [[pdata(1, commandSet({ field: 0x7777 }), true)], /^refused: unsupported/],
      [[pdata(1, Buffer.alloc(70 * 1024), true, false)], /longer than/],
    ];
    for (const [pdus, re] of cases) {
      const { rx, violations } = receiver();
      for (const p of pdus) rx.pdata(p);
      expect(violations.length, String(re)).toBe(1);
      expect(violations[0]).toMatch(re);
    }
  });
  it('holds work until every response owed was paid', () => {
    const { rx } = receiver();
    const order: string[] = [];
    rx.owe();
    rx.owe();
    rx.whenSettled(() => order.push('release'));
    rx.paid();
    expect(order).toEqual([]);
    rx.paid();
    expect(order).toEqual(['release']);
    rx.whenSettled(() => order.push('now'));
    expect(order).toEqual(['release', 'now']);
  });
});
