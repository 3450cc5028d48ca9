/**
 * The DIMSE bytes of the listener's own C-STORE / C-ECHO path (issue 28), as pure functions:
 *   - the PDVs of a P-DATA-TF PDU (PS3.8 9.3.5, annex E: presentation context id, message control header with the
 *     command bit 0x01 and the last-fragment bit 0x02);
 *   - the command set of a request (PS3.7 9.3, 6.3.1: always implicit VR little endian, group 0000 only);
 *   - the P-DATA-TF PDU of a response (C-STORE-RSP, C-ECHO-RSP), element for element what dcmjs-dimse sends
 *     (checked against its encoding in test/dicom/dimse-fast.test.ts).
 * dcmjs-dimse builds objects, a dcmjs dataset and a stream per PDV and per command; this reads the bytes in place.
 */
import { pdata } from './pdu-encode.js';

export const COMMAND = { CStoreRq: 0x0001, CStoreRsp: 0x8001, CEchoRq: 0x0030, CEchoRsp: 0x8030, CCancelRq: 0x0fff } as const;
/** (0000,0800) CommandDataSetType: 0x0101 = no data set follows; anything else = a data set follows. */
export const NO_DATA_SET = 0x0101;
/** A command set is a few hundred bytes; more than this is not a command set. */
export const MAX_COMMAND_BYTES = 64 * 1024;

export interface Pdv {
  presentationContextId: number;
  command: boolean;
  last: boolean;
  /** The fragment (a view of the PDU, not a copy). */
  value: Buffer;
}

/** The PDVs of a whole P-DATA-TF PDU (6-byte header included), or the reason it is malformed. */
export function parsePdvs(pdu: Buffer): Pdv[] | string {
  const out: Pdv[] = [];
  const end = pdu.length;
  let i = 6;
  if (end === i) return 'P-DATA-TF without a PDV';
  while (i < end) {
    if (end - i < 6) return `PDV item header cut at byte ${i} of the PDU`;
    const len = pdu.readUInt32BE(i);
    if (len < 2) return `PDV item length ${len} (at least 2)`;
    if (len > end - i - 4) return `PDV item length ${len} runs past the end of the PDU`;
    const mch = pdu[i + 5]!;
    if (mch & 0xfc) return `PDV message control header 0x${mch.toString(16)} has reserved bits set`;
    out.push({ presentationContextId: pdu[i + 4]!, command: (mch & 1) === 1, last: (mch & 2) === 2, value: pdu.subarray(i + 6, i + 4 + len) });
    i += 4 + len;
  }
  return out;
}

export interface CommandSet {
  /** (0000,0100) CommandField. */
  field: number;
  /** (0000,0110) MessageID. */
  messageId: number;
  /** (0000,0800) CommandDataSetType. */
  dataSetType: number;
  /** (0000,0002) / (0000,1000) as text, trailing NUL and space padding removed ('' when absent). */
  sopClassUid: string;
  sopInstanceUid: string;
  /** The same two values as sent (echoed byte for byte in the response). */
  rawSopClassUid?: Buffer;
  rawSopInstanceUid?: Buffer;
}

export const hasDataSet = (c: CommandSet) => c.dataSetType !== NO_DATA_SET;

const uidText = (b: Buffer) => b.toString('latin1').replace(/[\0 ]+$/, '').trim();

/** Parse a command set (implicit VR little endian, group 0000); the reason when it is malformed. */
export function parseCommandSet(buf: Buffer): CommandSet | string {
  let field: number | undefined;
  let messageId = 0;
  let dataSetType = NO_DATA_SET;
  let rawSopClassUid: Buffer | undefined;
  let rawSopInstanceUid: Buffer | undefined;
  let i = 0;
  while (i < buf.length) {
    if (buf.length - i < 8) return `command set element header cut at byte ${i}`;
    const group = buf.readUInt16LE(i);
    const element = buf.readUInt16LE(i + 2);
    const len = buf.readUInt32LE(i + 4);
    if (group !== 0x0000) return `command set element (${group.toString(16).padStart(4, '0')},${element.toString(16).padStart(4, '0')}) outside group 0000`;
    if (len > buf.length - i - 8) return `command set element (0000,${element.toString(16).padStart(4, '0')}) length ${len} runs past the end`;
    const v = buf.subarray(i + 8, i + 8 + len);
    const us = () => (len >= 2 ? v.readUInt16LE(0) : undefined);
    switch (element) {
      case 0x0002:
        rawSopClassUid = v;
        break;
      case 0x0100:
        field = us();
        break;
      case 0x0110:
        messageId = us() ?? 0;
        break;
      case 0x0800:
        dataSetType = us() ?? NO_DATA_SET;
        break;
      case 0x1000:
        rawSopInstanceUid = v;
        break;
    }
    i += 8 + len;
  }
  if (field === undefined) return 'command set without CommandField (0000,0100)';
  return {
    field,
    messageId,
    dataSetType,
    sopClassUid: rawSopClassUid ? uidText(rawSopClassUid) : '',
    sopInstanceUid: rawSopInstanceUid ? uidText(rawSopInstanceUid) : '',
    rawSopClassUid,
    rawSopInstanceUid,
  };
}

export interface ResponseFields {
  presentationContextId: number;
  /** 0x8001 C-STORE-RSP, 0x8030 C-ECHO-RSP. */
  field: number;
  messageIdBeingRespondedTo: number;
  /** Affected SOP Class / Instance UID, as text or as the request's bytes. */
  sopClassUid: string | Buffer;
  sopInstanceUid?: string | Buffer;
  status: number;
  /** (0000,0902) Error Comment (LO): printable ASCII, at most 64 characters. */
  errorComment?: string;
}

function element(el: number, value: Buffer): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt16LE(0x0000, 0);
  h.writeUInt16LE(el, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}
const us = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff]);
/** Even length: UI values pad with NUL, other text with a space (PS3.5 6.2). */
function padded(v: string | Buffer, pad: number): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
  return b.length % 2 ? Buffer.concat([b, Buffer.from([pad])]) : b;
}

/** The command set of a response: group length first, then the elements in tag order. */
export function responseCommandSet(f: Omit<ResponseFields, 'presentationContextId'>): Buffer {
  const els = [element(0x0002, padded(f.sopClassUid, 0)), element(0x0100, us(f.field)), element(0x0120, us(f.messageIdBeingRespondedTo)), element(0x0800, us(NO_DATA_SET)), element(0x0900, us(f.status))];
  if (f.errorComment) els.push(element(0x0902, padded(f.errorComment.replace(/[^\x20-\x7e]/g, '?').slice(0, 64), 0x20)));
  if (f.sopInstanceUid !== undefined) els.push(element(0x1000, padded(f.sopInstanceUid, 0)));
  const body = Buffer.concat(els);
  const groupLength = Buffer.allocUnsafe(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([element(0x0000, groupLength), body]);
}

/** The response as one P-DATA-TF PDU with one command PDV (last fragment). */
export function responsePdu(f: ResponseFields): Buffer {
  return pdata(f.presentationContextId, responseCommandSet(f), true, true);
}
