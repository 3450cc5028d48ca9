import { describe, it, expect } from 'vitest';
import { BufferPool } from '../../src/common/buffer-pool.js';

describe('BufferPool', () => {
  it('hands back a given buffer for the same size only, within its bounds', () => {
    const pool = new BufferPool(20_000, 1);
    const a = pool.take(8000);
    expect(a.length).toBe(8000);
    pool.give(a.buffer as ArrayBuffer);
    expect(pool.take(9000).buffer).not.toBe(a.buffer); // another size: fresh
    const again = pool.take(8000);
    expect(again.buffer).toBe(a.buffer);
    expect(pool.reused).toBe(1);
    expect(pool.take(8000).buffer).not.toBe(a.buffer); // taken already
    // bounds: one buffer per size, 20 000 bytes in all
    pool.give(new ArrayBuffer(8000));
    pool.give(new ArrayBuffer(8000));
    pool.give(new ArrayBuffer(9000));
    pool.give(new ArrayBuffer(7000)); // would exceed 20 000
    expect(pool.heldBytes).toBe(17_000);
  });
});
