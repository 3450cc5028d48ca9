/**
 * An HL7 v2 MLLP receiver for tests (a real TCP server on loopback), independent of src/: its own MLLP framing,
 * messages parsed with @medplum/core's Hl7Message, and strict checks of its own. A message that fails them gets
 * an AR with an ERR segment naming the problem; a good one an AA, unless the test sets `answer` (AE/AR with a
 * text, or misbehaviour: silence, a half frame, a close, an endless or a malformed answer).
 */
import net from 'node:net';
import tls from 'node:tls';
import { Hl7Message } from '@medplum/core';

const VT = 0x0b;
const FS_CR = Buffer.from([0x1c, 0x0d]);

export interface ReceivedMessage {
  raw: string;
  msg: Hl7Message;
  controlId: string;
}

export type Answer =
  | { kind: 'ack' }
  | { kind: 'refuse'; code: 'AE' | 'AR'; text: string }
  | { kind: 'silent' }
  | { kind: 'half' }
  | { kind: 'close' }
  | { kind: 'endless' }
  | { kind: 'garbage' }
  | { kind: 'wrong-id' };

/** HL7 escape sequences back to text (\F\ \S\ \T\ \R\ \E\). */
export function unescape(s: string): string {
  return s.replace(/\\([FSTRE])\\/g, (_, k: string) => ({ F: '|', S: '^', T: '&', R: '~', E: '\\' })[k]!);
}

/** Parsed by @medplum/core (the final segment terminator is not an empty segment). */
export function parse(raw: string): Hl7Message {
  return Hl7Message.parse(raw.replace(/\r$/, ''));
}

/** The checks the receiver makes; a list of problems (empty = acceptable). */
export function problemsOf(raw: string): string[] {
  const out: string[] = [];
  if (!raw.startsWith('MSH|^~\\&|')) return ['the message does not start with MSH|^~\\&|'];
  if (raw.includes('\n')) out.push('segments must be separated by CR only');
  if (!raw.endsWith('\r')) out.push('the last segment is not ended by CR');
  let msg: Hl7Message;
  try {
    msg = parse(raw);
  } catch (e) {
    return [...out, `unparseable: ${(e as Error).message}`];
  }
  const msh = msg.getSegment('MSH')!;
  if (msh.getField(9).toString() !== 'ORU^R01^ORU_R01') out.push(`MSH-9 is ${msh.getField(9).toString()}`);
  if (msh.getField(12).toString() !== '2.5.1') out.push('MSH-12 is not 2.5.1');
  if (!msh.getField(10).toString()) out.push('MSH-10 is empty');
  const names = msg.segments.map((s) => s.name);
  for (const n of names) if (!/^[A-Z][A-Z0-9]{2}$/.test(n)) out.push(`bad segment name ${JSON.stringify(n.slice(0, 10))}`);
  if (names.slice(0, 3).join(',') !== 'MSH,PID,OBR') out.push(`segment order ${names.join(',')}`);
  const pid = msg.getSegment('PID');
  if (!pid?.getComponent(3, 1)) out.push('PID-3 has no identifier');
  if (!pid?.getComponent(3, 4)) out.push('PID-3 has no assigning authority');
  const obx = msg.getAllSegments('OBX');
  if (!obx.length) out.push('no OBX');
  obx.forEach((o, i) => {
    if (o.getField(1).toString() !== String(i + 1)) out.push(`OBX ${i + 1}: set id ${o.getField(1).toString()}`);
    const type = o.getField(2).toString();
    if (!['NM', 'ST', 'CWE', 'TX'].includes(type)) out.push(`OBX ${i + 1}: value type ${type}`);
    if (type === 'NM' && !/^[+-]?\d+(\.\d+)?$/.test(o.getField(5).toString())) out.push(`OBX ${i + 1}: NM value ${o.getField(5).toString()}`);
    if (o.getField(11).toString() !== 'P') out.push(`OBX ${i + 1}: status is not P`);
    if (o.getComponent(3, 3) === '') out.push(`OBX ${i + 1}: OBX-3 has no coding system`);
  });
  return out;
}

export class MllpReceiver {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Every message taken (acknowledged, or kept without an answer), in order: a retry of one appears twice. */
  readonly received: ReceivedMessage[] = [];
  /** Messages refused as malformed, with the problems. */
  readonly malformed: { raw: string; problems: string[] }[] = [];
  connections = 0;
  answer: () => Answer = () => ({ kind: 'ack' });

  /** `tlsOptions`: serve MLLP over TLS with this key and certificate. */
  constructor(
    readonly port: number,
    private readonly tlsOptions?: { key: Buffer; cert: Buffer },
  ) {}

  /** Distinct control ids of the accepted messages (a receiver deduplicates on MSH-10). */
  get distinct(): string[] {
    return [...new Set(this.received.map((r) => r.controlId))];
  }

  start(): Promise<void> {
    const onConnection = (socket: net.Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          if (buf.length && buf[0] !== VT) {
            socket.end(); // not MLLP
            return;
          }
          const end = buf.indexOf(FS_CR);
          if (end < 0) return;
          const raw = buf.subarray(1, end).toString('utf8');
          buf = buf.subarray(end + 2);
          this.handle(socket, raw);
        }
      });
    };
    this.server = this.tlsOptions ? tls.createServer(this.tlsOptions, onConnection) : net.createServer(onConnection);
    if (this.tlsOptions) this.server.on('tlsClientError', () => {});
    return new Promise((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
  }

  private handle(socket: net.Socket, raw: string): void {
    const problems = problemsOf(raw);
    const id = /^MSH\|[^|]*(?:\|[^|]*){7}\|([^|]*)/.exec(raw)?.[1] ?? '';
    const frame = (s: string) => socket.write(Buffer.concat([Buffer.from([VT]), Buffer.from(s, 'utf8'), FS_CR]));
    const ack = (code: string, ctl: string, text = '', err = '') =>
      frame(`MSH|^~\\&|EHR|HOSP|OSTEOSCREEN||20260101120000||ACK^R01^ACK|A${Date.now()}|P|2.5.1\rMSA|${code}|${ctl}${text ? '|' + text : ''}\r${err}`);
    if (problems.length) {
      this.malformed.push({ raw, problems });
      return void ack('AR', id, 'Malformed message', `ERR||||E|||${problems.join('; ').replace(/[|^~\\&]/g, (c) => `\\${{ '|': 'F', '^': 'S', '~': 'R', '\\': 'E', '&': 'T' }[c]}\\`)}\r`);
    }
    const a = this.answer();
    if (a.kind === 'ack' || a.kind === 'wrong-id' || a.kind === 'silent') this.received.push({ raw, msg: parse(raw), controlId: id });
    switch (a.kind) {
      case 'ack':
        return void ack('AA', id);
      case 'wrong-id':
        return void ack('AA', 'SOMETHING-ELSE');
      case 'refuse':
        return void ack(a.code, id, '', `ERR||PID^1^3|204^Unknown key identifier^HL70357|E||||${a.text}\r`);
      case 'silent':
        return;
      case 'half':
        return void socket.write(Buffer.from([VT, ...Buffer.from('MSH|^~\\&|EHR')]));
      case 'close':
        return void socket.destroy();
      case 'endless': {
        const chunk = Buffer.alloc(16 * 1024, 0x41);
        socket.write(Buffer.from([VT]));
        const pump = () => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        return pump();
      }
      case 'garbage':
        return void frame('this is not HL7');
    }
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
