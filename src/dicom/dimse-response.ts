/**
 * The C-STORE-RSP as bytes (issue 28): a P-DATA-TF PDU with one command PDV, written straight to the socket. The
 * library's own response path builds a naturalized command data set and encodes it with dcmjs for every instance
 * (about a sixth of the listener's CPU per instance in a profile); this one is a few small buffers.
 * PS3.7 9.3.1.2: command set in implicit VR little endian, group length first.
 */
const C_STORE_RSP = 0x8001;
const NO_DATASET = 0x0101;

function element(el: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0x0000, 0);
  h.writeUInt16LE(el, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}
const us = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff]);
/** UI values pad with NUL, other text with a space, to an even length. */
const text = (s: string, pad: string) => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');

export interface CStoreRspFields {
  presentationContextId: number;
  messageIdBeingRespondedTo: number;
  sopClassUid: string;
  sopInstanceUid: string;
  status: number;
  /** (0000,0902) Error Comment, at most 64 characters (LO). */
  errorComment?: string;
}

export function cStoreRspPdu(f: CStoreRspFields): Buffer {
  const els = [
    element(0x0002, text(f.sopClassUid, '\0')),
    element(0x0100, us(C_STORE_RSP)),
    element(0x0120, us(f.messageIdBeingRespondedTo)),
    element(0x0800, us(NO_DATASET)),
    element(0x0900, us(f.status)),
  ];
  // Error Comment (0000,0902) sorts before Affected SOP Instance UID (0000,1000).
  if (f.errorComment) els.push(element(0x0902, text(f.errorComment.replace(/[^\x20-\x7e]/g, '?').slice(0, 64), ' ')));
  els.push(element(0x1000, text(f.sopInstanceUid, '\0')));
  const body = Buffer.concat(els);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  const command = Buffer.concat([element(0x0000, groupLength), body]);
  const head = Buffer.alloc(12);
  head[0] = 0x04; // P-DATA-TF
  head.writeUInt32BE(command.length + 6, 2);
  head.writeUInt32BE(command.length + 2, 6); // PDV item length
  head[10] = f.presentationContextId;
  head[11] = 0x03; // command, last fragment
  return Buffer.concat([head, command]);
}
