/**
 * Socket guard in front of dcmjs-dimse. The library accumulates every PDU up to the length a peer *claims*
 * (Buffer.concat per chunk: quadratic time, unbounded memory) before any association check. This guard reads
 * the 6-byte PDU headers itself, before the library sees a byte, and aborts the connection as soon as a header
 * is out of bounds:
 *   - the first PDU must be an A-ASSOCIATE-RQ of at most MAX_ASSOCIATE_RQ_LENGTH bytes, and it is the only one;
 *   - P-DATA-TF only after the association was accepted, at most the maximum PDU length we advertised;
 *   - A-RELEASE-RQ/RP and A-ABORT are a few bytes (at most MAX_CONTROL_PDU_LENGTH);
 *   - A-ASSOCIATE-AC/RJ (an SCP's PDUs) and unknown PDU types are refused.
 * So at most one header plus the current chunk is read from a peer that lies about a length.
 */
import type { Socket } from 'node:net';
import { OWN_BUFFER_BYTES } from '../common/buffer-pool.js';

export const PDU = { AssociateRQ: 1, AssociateAC: 2, AssociateRJ: 3, PDataTF: 4, ReleaseRQ: 5, ReleaseRP: 6, Abort: 7 } as const;
/** An A-ASSOCIATE-RQ with 128 presentation contexts of a few transfer syntaxes each is about 40 KB. */
export const MAX_ASSOCIATE_RQ_LENGTH = 128 * 1024;
export const MAX_CONTROL_PDU_LENGTH = 1024;
/** The maximum P-DATA-TF length we advertise (the A-ASSOCIATE-AC carries min(this, the peer's own maximum)). */
export const OUR_MAX_PDU_LENGTH = 256 * 1024;

export interface PduGuardOptions {
  /** The P-DATA-TF limit the A-ASSOCIATE-AC advertised; undefined until it was sent. */
  maxPduLength(): number | undefined;
  /** Called once, with the reason, when a header is out of bounds (the guard forwards nothing after that). */
  onViolation(reason: string): void;
  /** Called for every chunk the peer sends (activity, for idle timeouts). */
  onData?(bytes: number): void;
}

export class PduGuard {
  private readonly header = Buffer.alloc(6);
  private headerHave = 0;
  private bodyLeft = 0;
  private pdus = 0;
  violation?: string;
  bytesSeen = 0;

  constructor(private readonly opts: PduGuardOptions) {}

  /** Check a chunk; true when it may be passed on to the library. */
  accept(chunk: Buffer): boolean {
    if (this.violation) return false;
    this.bytesSeen += chunk.length;
    this.opts.onData?.(chunk.length);
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= n;
        i += n;
        continue;
      }
      const n = Math.min(6 - this.headerHave, chunk.length - i);
      chunk.copy(this.header, this.headerHave, i, i + n);
      this.headerHave += n;
      i += n;
      if (this.headerHave < 6) break;
      this.headerHave = 0;
      const problem = this.check(this.header[0]!, this.header.readUInt32BE(2));
      if (problem) {
        this.violation = problem;
        this.opts.onViolation(problem);
        return false;
      }
      this.bodyLeft = this.header.readUInt32BE(2);
      this.pdus++;
    }
    return true;
  }

  private check(type: number, length: number): string | null {
    if (this.pdus === 0 && type !== PDU.AssociateRQ) return `first PDU has type ${type}, expected an A-ASSOCIATE-RQ`;
    switch (type) {
      case PDU.AssociateRQ:
        if (this.pdus > 0) return 'second A-ASSOCIATE-RQ on one connection';
        return length > MAX_ASSOCIATE_RQ_LENGTH ? `A-ASSOCIATE-RQ claims ${length} bytes, more than ${MAX_ASSOCIATE_RQ_LENGTH}` : null;
      case PDU.PDataTF: {
        const max = this.opts.maxPduLength();
        if (max === undefined) return 'P-DATA-TF before the association was accepted';
        return length > max ? `P-DATA-TF PDU of ${length} bytes exceeds the advertised maximum ${max}` : null;
      }
      case PDU.ReleaseRQ:
      case PDU.ReleaseRP:
      case PDU.Abort:
        return length > MAX_CONTROL_PDU_LENGTH ? `PDU type ${type} claims ${length} bytes` : null;
      case PDU.AssociateAC:
      case PDU.AssociateRJ:
        return `unexpected PDU type ${type} from a calling AE`;
      default:
        return `unknown PDU type ${type}`;
    }
  }
}

/** A-ABORT PDU: source 2 = service provider, reason 0..6 (2 = unexpected PDU, 6 = invalid PDU parameter). */
export function abortPdu(reason = 6): Buffer {
  return Buffer.from([PDU.Abort, 0, 0, 0, 0, 4, 0, 0, 2, reason]);
}

/**
 * Cuts a byte stream into whole PDUs (headers already checked by the guard, so every length is bounded). A PDU
 * that arrived inside one chunk is passed on as a view of it (no copy); one split over chunks is copied once into
 * a buffer of its own (dcmjs-dimse's own accumulator Buffer.concats every chunk onto the partial PDU). That buffer
 * may start with `headroom(type)` spare bytes before the PDU: a P-DATA-TF carrying a whole C-STORE data set then
 * becomes the instance's file in place, its Part-10 header written into the headroom (see InstanceSink.adopt).
 */
export class PduAssembler {
  private head = Buffer.alloc(6);
  private headHave = 0;
  private body?: Buffer;
  private bodyHave = 0;
  private readonly own = new WeakSet<Buffer>();

  constructor(
    private readonly headroom?: (type: number) => number,
    private readonly pool?: { take(size: number): Buffer },
  ) {}

  /** True when `pdu` (from push) sits alone in a buffer of its own: the bytes before it are spare. */
  owns(pdu: Buffer): boolean {
    return this.own.has(pdu);
  }

  /** The PDUs completed by `chunk`, in order; each is also passed to `each` as soon as it is complete. */
  push(chunk: Buffer, each?: (pdu: Buffer) => void): Buffer[] {
    const out: Buffer[] = [];
    const emit = (p: Buffer) => (each ? each(p) : out.push(p));
    let i = 0;
    while (i < chunk.length) {
      if (!this.body) {
        if (this.headHave === 0 && chunk.length - i >= 6) {
          const total = 6 + chunk.readUInt32BE(i + 2);
          if (chunk.length - i >= total) {
            emit(chunk.subarray(i, i + total));
            i += total;
            continue;
          }
        }
        const n = Math.min(6 - this.headHave, chunk.length - i);
        chunk.copy(this.head, this.headHave, i, i + n);
        this.headHave += n;
        i += n;
        if (this.headHave < 6) break;
        const room = Math.max(0, Math.min(4096, this.headroom?.(this.head[0]!) ?? 0));
        const size = room + 6 + this.head.readUInt32BE(2);
        this.body = (this.pool && size >= OWN_BUFFER_BYTES ? this.pool.take(size) : Buffer.allocUnsafe(size)).subarray(room);
        this.head.copy(this.body, 0);
        this.bodyHave = 6;
        this.headHave = 0;
      }
      const n = Math.min(this.body.length - this.bodyHave, chunk.length - i);
      chunk.copy(this.body, this.bodyHave, i, i + n);
      this.bodyHave += n;
      i += n;
      if (this.bodyHave === this.body.length) {
        const p = this.body;
        this.body = undefined;
        if (p.byteOffset + p.length >= OWN_BUFFER_BYTES && p.buffer.byteLength === p.byteOffset + p.length) this.own.add(p); // not a slice of the pool
        emit(p);
      }
    }
    return out;
  }
}

/** Where the guard's whole PDUs go besides the library. */
export interface PduRoute {
  /**
   * Called once per whole PDU, in order, before the library; true when the PDU was consumed (the library never sees
   * it). `own`: the PDU sits alone in a buffer of its own, after `headroom` spare bytes.
   */
  intercept?: (pdu: Buffer, own: boolean) => boolean;
  /** Spare bytes wanted before the next PDU of `type` when it has to be copied out of several chunks. */
  headroom?: (type: number) => number;
  /** Hand a PDU to the library's listeners later (one that `intercept` held back). */
  deliver(pdu: Buffer): void;
}

/**
 * Put a PduGuard in front of every 'data' listener registered on `socket` from now on (call this before the
 * library wraps the socket). A chunk with an out-of-bounds header never reaches the library, and the library
 * receives whole PDUs, one call each (PduAssembler), except those `route.intercept` consumes. PDUs copied out of
 * several chunks go into buffers from `pool` when given.
 */
export function guardSocket(socket: Socket, guard: PduGuard, pool?: { take(size: number): Buffer }): PduRoute {
  const listeners: ((pdu: Buffer) => void)[] = [];
  const route: PduRoute = { deliver: (p) => listeners.forEach((fn) => fn(p)) };
  const assembler = new PduAssembler((type) => route.headroom?.(type) ?? 0, pool);
  let last: Buffer | undefined;
  let lastPdus: Buffer[] = [];
  const pdus = (chunk: Buffer) => {
    // once per chunk, however many listeners; each PDU is intercepted as soon as it is complete
    if (chunk !== last) {
      last = chunk;
      lastPdus = [];
      if (guard.accept(chunk)) assembler.push(chunk, (p) => route.intercept?.(p, assembler.owns(p)) || lastPdus.push(p));
    }
    return lastPdus;
  };
  const wrap = (ev: string | symbol, fn: (...a: any[]) => void) => {
    if (ev !== 'data') return fn;
    listeners.push(fn);
    return (chunk: Buffer) => {
      for (const p of pdus(chunk)) fn(p);
    };
  };
  const on = socket.on.bind(socket) as (ev: string | symbol, fn: (...a: any[]) => void) => Socket;
  const prepend = socket.prependListener.bind(socket) as (ev: string | symbol, fn: (...a: any[]) => void) => Socket;
  socket.on = socket.addListener = ((ev: string | symbol, fn: (...a: any[]) => void) => on(ev, wrap(ev, fn))) as any;
  socket.prependListener = ((ev: string | symbol, fn: (...a: any[]) => void) => prepend(ev, wrap(ev, fn))) as any;
  return route;
}
