/**
 * Buffers of the same size, handed back for re-use (issue 28). The listener copies each received instance once
 * into a buffer of its own (PduAssembler) that is transferred to a writer thread and, once written, transferred
 * back here. A fresh 130 KB allocation per instance costs far more than the copy itself (new pages, and the old
 * ones are freed only when a garbage collection notices them); a returned buffer costs nothing to reuse.
 * Bounded: at most `maxBytes` are kept, in buffers of at most `maxBuffersPerSize` per size.
 */
/** Buffer.allocUnsafe returns a slice of Node's shared pool below this size, a buffer of its own at or above it. */
export const OWN_BUFFER_BYTES = Buffer.poolSize >>> 1;

/** True when `b` spans the whole of its ArrayBuffer: that memory is its alone (it may be transferred, or read as is). */
export function ownsWholeBuffer(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private bytes = 0;
  reused = 0;

  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly maxBuffersPerSize = 64,
  ) {}

  /** A buffer of exactly `size` bytes (contents undefined, like Buffer.allocUnsafe). */
  take(size: number): Buffer {
    const list = this.free.get(size);
    const ab = list?.pop();
    if (!ab) return Buffer.allocUnsafe(size);
    this.bytes -= size;
    this.reused++;
    return Buffer.from(ab, 0, size);
  }

  /** Hand back a buffer nobody uses any more (a detached one is ignored). */
  give(ab: ArrayBuffer): void {
    const size = ab.byteLength;
    if (size === 0 || this.bytes + size > this.maxBytes) return;
    const list = this.free.get(size) ?? (this.free.set(size, []).get(size) as ArrayBuffer[]);
    if (list.length >= this.maxBuffersPerSize) return;
    list.push(ab);
    this.bytes += size;
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
