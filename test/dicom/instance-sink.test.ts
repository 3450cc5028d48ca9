import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { InstanceSink } from '../../src/dicom/scp.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'osteo-sink-'));
const header = Buffer.from('HEADER--');
const chunks = [Buffer.alloc(3000, 1), Buffer.alloc(5000, 2), Buffer.alloc(7000, 3)];
const whole = Buffer.concat([header, ...chunks]);
const sha = createHash('sha256').update(whole).digest('hex');

function feed(sink: InstanceSink): Promise<void> {
  for (const c of chunks) sink.write(c);
  return new Promise((r) => sink.end(() => r()));
}

describe('InstanceSink', () => {
  it('keeps a small instance in memory: one buffer of its own, header first, hashed as it came', async () => {
    const s = new InstanceSink(path.join(dir, 'a.part'), header);
    await feed(s);
    expect(s.spilled).toBe(false);
    expect(existsSync(s.tempPath)).toBe(false);
    const b = s.bytes();
    expect(b.equals(whole)).toBe(true);
    expect(b.byteOffset === 0 && b.buffer.byteLength === b.length).toBe(true);
    expect(s.sha256(b)).toBe(sha);
    expect(s.size).toBe(whole.length);
  });

  it('streams an instance over the limit to its temp file instead (everything received so far first)', async () => {
    const s = new InstanceSink(path.join(dir, 'b.part'), header, 6000);
    await feed(s);
    expect(s.spilled).toBe(true);
    expect(readFileSync(s.tempPath).equals(whole)).toBe(true);
    expect(s.sha256()).toBe(sha); // hashed as it went to the file
  });

  it('adopts a first fragment that sits alone after room for the header: the file in place, no copy; else appends', async () => {
    const fragment = Buffer.concat(chunks);
    const room = Buffer.allocUnsafe(header.length + fragment.length);
    fragment.copy(room, header.length);
    const s = new InstanceSink(path.join(dir, 'c.part'), header);
    s.adopt(room.subarray(header.length));
    await new Promise<void>((r) => s.end(() => r()));
    const b = s.bytes();
    expect(b.buffer).toBe(room.buffer); // the fragment's own buffer, header written in front
    expect(b.equals(whole)).toBe(true);
    expect(s.sha256(b)).toBe(sha);
    // not at the right offset, or not the first fragment: appended, then copied once as before
    for (const [first, rest] of [
      [Buffer.concat([Buffer.alloc(3), chunks[0]!]).subarray(3), chunks.slice(1)],
      [chunks[0]!, chunks.slice(1)],
    ] as const) {
      const t = new InstanceSink(path.join(dir, 'd.part'), header);
      t.adopt(first);
      for (const c of rest) t.adopt(c);
      const tb = t.bytes();
      expect(tb.equals(whole)).toBe(true);
      expect(tb.buffer).not.toBe(first.buffer);
      expect(t.sha256(tb)).toBe(sha);
    }
  });

  it('copies the fragments into a buffer from `alloc` (a pool) and says so; a small one stays a fresh buffer', async () => {
    const given: Buffer[] = [];
    const alloc = (n: number) => {
      const b = Buffer.from(new ArrayBuffer(n));
      given.push(b);
      return b;
    };
    const s = new InstanceSink(path.join(dir, 'e.part'), header, undefined, alloc);
    await feed(s);
    const b = s.bytes();
    expect(b.buffer).toBe(given[0]!.buffer);
    expect(b.equals(whole)).toBe(true);
    expect(s.pooled).toBe(true);
    const small = new InstanceSink(path.join(dir, 'f.part'), header, undefined, alloc);
    small.append(Buffer.from('tiny'));
    expect(small.bytes().toString()).toBe('HEADER--tiny');
    expect(small.pooled).toBe(false);
    expect(given.length).toBe(1);
  });
});
