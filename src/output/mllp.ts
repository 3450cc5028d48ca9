/**
 * MLLP (HL7 v2 Minimal Lower Layer Protocol) client: one TCP (or TLS) connection, messages sent one at a time,
 * each framed as <VT 0x0B> message <FS 0x1C><CR 0x0D>, and the receiver's answer read as one such frame.
 *
 * Made for receivers that misbehave: bytes before a start block are skipped, an answer (or the skipped bytes)
 * larger than maxAnswerBytes, an answer that never ends, a half frame followed by silence or a close without an
 * answer all end the exchange with an error (the connection is then closed; the next exchange opens a new one).
 * The whole exchange (write to end of the answer frame) has one time limit.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describeNetworkError } from './http-post.js';

export const MLLP_START = 0x0b;
export const MLLP_END = Buffer.from([0x1c, 0x0d]);

export interface MllpOptions {
  host: string;
  port: number;
  tls?: boolean;
  /** PEM CA(s) trusted with tls instead of the system CAs. */
  ca?: Buffer;
  /** Limit for connecting, and for each exchange. */
  timeoutMs: number;
  /** Largest answer accepted (default 64 KiB: an ACK is small). */
  maxAnswerBytes?: number;
}

/** An MLLP frame of a message (a string is encoded as UTF-8). */
export function mllpFrame(message: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([MLLP_START]), typeof message === 'string' ? Buffer.from(message, 'utf8') : message, MLLP_END]);
}

/**
 * Frames found in `buf`: the complete ones' payloads and the bytes left over (an unfinished frame, from its start
 * block). Bytes outside frames are dropped.
 */
export function readFrames(buf: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const start = buf.indexOf(MLLP_START, pos);
    if (start < 0) return { frames, rest: Buffer.alloc(0) };
    const end = buf.indexOf(MLLP_END, start + 1);
    if (end < 0) return { frames, rest: buf.subarray(start) };
    frames.push(buf.subarray(start + 1, end));
    pos = end + MLLP_END.length;
  }
}

export class MllpClient {
  private socket?: net.Socket;
  private open = false;
  private buf: Buffer = Buffer.alloc(0);
  private received = 0;
  private onFrame?: (frame: Buffer) => void;
  private onFail?: (err: Error) => void;

  constructor(private readonly opts: MllpOptions) {}

  get connected(): boolean {
    return this.open;
  }

  private get maxAnswer(): number {
    return this.opts.maxAnswerBytes ?? 64 * 1024;
  }

  /** Connect (within timeoutMs). Rejects with the network error in words. */
  connect(): Promise<void> {
    const { host, port, timeoutMs } = this.opts;
    return new Promise((resolve, reject) => {
      const socket = this.opts.tls
        ? tls.connect({ host, port, ca: this.opts.ca, servername: net.isIP(host) ? undefined : host })
        : net.connect({ host, port });
      this.socket = socket;
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`no connection within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      const fail = (e: Error) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`MLLP ${host}:${port}: ${describeNetworkError(e)}`));
        }
      };
      socket.once(this.opts.tls ? 'secureConnect' : 'connect', () => {
        settled = true;
        clearTimeout(timer);
        this.open = true;
        socket.setNoDelay(true);
        resolve();
      });
      // Events of a connection closed earlier (after a failed exchange) must not touch the current one.
      const current = () => this.socket === socket;
      socket.on('error', (e) => {
        fail(e);
        if (current()) this.fail(new Error(describeNetworkError(e)));
      });
      socket.on('close', () => {
        fail(new Error('connection closed'));
        if (!current()) return;
        this.open = false;
        this.fail(new Error('the receiver closed the connection without an answer'));
      });
      socket.on('data', (chunk: Buffer) => {
        if (current()) this.data(chunk);
      });
    });
  }

  private data(chunk: Buffer): void {
    if (!this.onFrame) return; // nothing asked: an unsolicited frame is dropped
    this.received += chunk.length;
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.received > this.maxAnswer) return this.fail(new Error(`the answer exceeds ${this.maxAnswer} bytes`), true);
    const { frames, rest } = readFrames(this.buf);
    this.buf = rest;
    if (frames.length) this.onFrame(frames[0]!);
  }

  private fail(err: Error, close = false): void {
    const f = this.onFail;
    if (close) this.close();
    f?.(err);
  }

  /** Send one message and wait for one answer frame (its payload, UTF-8). Rejects on timeout, close, overflow. */
  exchange(message: string | Buffer): Promise<string> {
    if (!this.socket || !this.open) return Promise.reject(new Error('not connected'));
    const socket = this.socket;
    const seconds = Math.round(this.opts.timeoutMs / 1000);
    this.buf = Buffer.alloc(0);
    this.received = 0;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(this.buf.length ? `the answer was not complete within ${seconds} s` : `no answer within ${seconds} s`), true), this.opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.onFrame = undefined;
        this.onFail = undefined;
      };
      this.onFrame = (frame) => {
        done();
        resolve(frame.toString('utf8'));
      };
      this.onFail = (err) => {
        done();
        reject(err);
      };
      socket.write(mllpFrame(message));
    });
  }

  close(): void {
    this.open = false;
    this.socket?.destroy();
  }
}
