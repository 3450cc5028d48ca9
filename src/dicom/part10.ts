/** Hand-written Part-10 preamble + file meta information group (explicit VR little endian). */
export const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1487.1';
export const IMPLEMENTATION_VERSION = 'OSTEOSCREEN_01';

function element(group: number, el: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB' || vr === 'OW' || vr === 'SQ' || vr === 'UN' || vr === 'UT';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'ascii');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

function text(s: string, pad: string): Buffer {
  const b = Buffer.from(s, 'ascii');
  return b.length % 2 ? Buffer.concat([b, Buffer.from(pad, 'ascii')]) : b;
}

export function part10Header(sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string, sourceAe?: string): Buffer {
  const els = [
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', text(sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', text(sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION, ' ')),
  ];
  if (sourceAe) els.push(element(0x0002, 0x0016, 'AE', text(sourceAe.trim().slice(0, 16), ' ')));
  const body = Buffer.concat(els);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  const groupLength = element(0x0002, 0x0000, 'UL', len);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'ascii'), groupLength, body]);
}
