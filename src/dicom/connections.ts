/**
 * Connection accounting for the DICOM listener (documented in the README, "Security"):
 *   - every TCP connection must have its association accepted within `timeoutMs` of connecting (from the first
 *     byte on), and an accepted association that receives nothing for `timeoutMs` is closed (a C-STORE still
 *     being written to disk does not count as idle);
 *   - at most `maxPending` connections may be waiting for an association; one more closes the oldest waiting one
 *     (a real sender sends its A-ASSOCIATE-RQ within milliseconds of connecting);
 *   - at most `maxAssociations` associations at once; when all are taken, a new association request closes the
 *     association that has been idle longest, if it has been idle for at least `evictIdleMs`; otherwise the
 *     request is rejected (transient). So idle or stuck associations cannot lock out a real sender.
 */
import type { Socket } from 'node:net';
import { abortPdu } from './pdu-guard.js';

export interface ConnectionRules {
  maxAssociations: number;
  maxPending: number;
  timeoutMs: number;
  evictIdleMs: number;
}

export interface Tracked {
  readonly id: number;
  readonly socket: Socket;
  readonly ip: string;
  readonly since: number;
  lastData: number;
  /** Bytes read from the peer (all of them passed through the PDU guard). */
  bytesRead: number;
  associated: boolean;
  /** C-STOREs being received or stored right now. */
  busy: number;
  /** The P-DATA-TF limit advertised in our A-ASSOCIATE-AC. */
  maxPdu?: number;
  callingAe: string;
  closed: boolean;
  /** Send an A-ABORT (optional), close the connection, report `reason` once. */
  close(reason: string, abort?: boolean): void;
}

export class Connections {
  private readonly all = new Set<Tracked>();
  private nextId = 1;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rules: ConnectionRules,
    private readonly onClosed: (t: Tracked, reason: string) => void,
  ) {
    this.timer = setInterval(() => this.sweep(), Math.max(100, Math.min(1000, rules.timeoutMs / 4)));
    this.timer.unref();
  }

  add(socket: Socket, ip: string): Tracked {
    const now = Date.now();
    const all = this.all;
    const onClosed = this.onClosed;
    const t: Tracked = {
      id: this.nextId++,
      socket,
      ip,
      since: now,
      lastData: now,
      bytesRead: 0,
      associated: false,
      busy: 0,
      callingAe: '',
      closed: false,
      close(reason: string, abort = false) {
        if (t.closed) return;
        t.closed = true;
        all.delete(t);
        onClosed(t, reason);
        socket.pause();
        const kill = setTimeout(() => socket.destroy(), 1000);
        kill.unref();
        if (abort && socket.writable) socket.end(abortPdu(), () => socket.destroy());
        else socket.destroy();
      },
    };
    socket.once('close', () => {
      t.closed = true;
      all.delete(t);
    });
    all.add(t);
    const pending = this.pending();
    if (pending.length > this.rules.maxPending) pending[0]!.close(`more than ${this.rules.maxPending} connections without an association: closed the oldest`);
    return t;
  }

  pending(): Tracked[] {
    return [...this.all].filter((t) => !t.associated).sort((a, b) => a.since - b.since);
  }

  associations(): Tracked[] {
    return [...this.all].filter((t) => t.associated);
  }

  /** Room for one more association? Evicts the longest-idle association when all slots are taken. */
  admit(): boolean {
    const assoc = this.associations();
    if (assoc.length < this.rules.maxAssociations) return true;
    const now = Date.now();
    const idle = assoc.filter((t) => t.busy === 0 && now - t.lastData >= this.rules.evictIdleMs).sort((a, b) => a.lastData - b.lastData)[0];
    if (!idle) return false;
    idle.close(`all ${this.rules.maxAssociations} associations taken: closed the one idle for ${Math.round((now - idle.lastData) / 1000)} s`, true);
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    const s = Math.round(this.rules.timeoutMs / 1000);
    for (const t of [...this.all]) {
      if (!t.associated && now - t.since >= this.rules.timeoutMs) t.close(`no association within ${s} s of connecting`, true);
      else if (t.associated && t.busy === 0 && now - t.lastData >= this.rules.timeoutMs) t.close(`association idle for ${s} s`, true);
    }
  }

  closeAll(): void {
    clearInterval(this.timer);
    for (const t of [...this.all]) t.close('listener closing');
  }
}
