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
    expect(s.hash.digest('hex')).toBe(sha);
    expect(s.size).toBe(whole.length);
  });

  it('streams an instance over the limit to its temp file instead (everything received so far first)', async () => {
    const s = new InstanceSink(path.join(dir, 'b.part'), header, 6000);
    await feed(s);
    expect(s.spilled).toBe(true);
    expect(readFileSync(s.tempPath).equals(whole)).toBe(true);
    expect(s.hash.digest('hex')).toBe(sha);
  });
});
