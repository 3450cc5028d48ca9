import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import { GroupCommitter, writeBatchSync } from '../../src/store/group-commit.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'osteo-group-commit-'));
const store = openStore(root);
const committer = new GroupCommitter((fn) => store.index.inTransaction(fn), 2);

afterAll(async () => {
  await committer.close();
  store.close();
});

describe('group commit of received instances', () => {
  it('writes, fsyncs and renames each file; instances committed together share one batch and one index transaction', async () => {
    const jobs = Array.from({ length: 12 }, (_, i) => ({
      tempPath: path.join(store.blobs.tmpDir, `t${i}.part`),
      finalPath: path.join(store.blobs.studiesDir, '1.2.3', `1.2.3.${i % 3}`, `1.2.3.4.${i}.dcm`),
      bytes: Buffer.from(`instance ${i} `.repeat(1000)),
    }));
    const expected = jobs.map((j) => Buffer.from(j.bytes));
    const before = committer.stats.batches;
    const r = await Promise.all(jobs.map((j, i) => committer.commit(j, () => i)));
    expect(r).toEqual(jobs.map((_, i) => i));
    jobs.forEach((j, i) => expect(readFileSync(j.finalPath).equals(expected[i]!)).toBe(true));
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
    // 12 commits issued at once on 2 writer threads: fewer batches than instances.
    expect(committer.stats.batches - before).toBeLessThan(12);
    expect(committer.stats.largestBatch).toBeGreaterThan(1);
  });

  it('sends a transferred buffer marked recycle back once its file is written; others stay where they are', async () => {
    const back: ArrayBuffer[] = [];
    const c = new GroupCommitter((fn) => store.index.inTransaction(fn), 1, (b) => back.push(b));
    try {
      const mk = (i: number) => {
        const b = Buffer.allocUnsafe(8192).fill(i);
        return { tempPath: path.join(store.blobs.tmpDir, `r${i}.part`), finalPath: path.join(store.blobs.studiesDir, '7', '7.1', `7.1.${i}.dcm`), bytes: b };
      };
      const [a, b] = [mk(1), mk(2)];
      const shas: (string | undefined)[] = [];
      await Promise.all([c.commit({ ...a, recycle: true, hash: true }, (d) => shas.push(d.sha256)), c.commit(b, (d) => shas.push(d.sha256))]);
      // the writer hashed what it wrote when asked, and only then
      expect(shas.sort()).toEqual([createHash('sha256').update(Buffer.alloc(8192, 1)).digest('hex'), undefined]);
      expect(a.bytes.length).toBe(0); // transferred
      expect(back.length).toBe(1);
      expect(back[0]!.byteLength).toBe(8192);
      expect(new Uint8Array(back[0]!)[0]).toBe(1);
      expect(readFileSync(a.finalPath).equals(Buffer.alloc(8192, 1))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('fails only the instance whose file cannot be written or whose index row fails; its temp file is removed', async () => {
    const blocker = path.join(store.blobs.studiesDir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const ok = { tempPath: path.join(store.blobs.tmpDir, 'ok.part'), finalPath: path.join(store.blobs.studiesDir, '9', '9.1', '9.1.1.dcm'), bytes: Buffer.from('ok') };
    const badDir = { tempPath: path.join(store.blobs.tmpDir, 'bad.part'), finalPath: path.join(blocker, '9.1', '9.1.2.dcm'), bytes: Buffer.from('bad') };
    const badRow = { tempPath: path.join(store.blobs.tmpDir, 'row.part'), finalPath: path.join(store.blobs.studiesDir, '9', '9.1', '9.1.3.dcm'), bytes: Buffer.from('row') };
    const [a, b, c] = await Promise.allSettled([
      committer.commit(ok, () => 'ok'),
      committer.commit(badDir, () => 'never'),
      committer.commit(badRow, () => {
        throw new Error('row refused');
      }),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: 'ok' });
    expect(b.status).toBe('rejected');
    expect(String((b as PromiseRejectedResult).reason)).toMatch(/ENOTDIR|EEXIST/);
    expect(c.status).toBe('rejected');
    expect(existsSync(ok.finalPath)).toBe(true);
    expect(existsSync(badDir.tempPath)).toBe(false);
  });

  it('writeBatchSync fsyncs a file already complete in its temp path (no bytes) and renames it', () => {
    const t = path.join(store.blobs.tmpDir, 'pre.part');
    writeFileSync(t, 'pre-written');
    const f = path.join(store.blobs.studiesDir, '8', '8.1', '8.1.1.dcm');
    expect(writeBatchSync([{ id: 1, tempPath: t, finalPath: f }])).toEqual([{ id: 1, error: undefined }]);
    expect(readFileSync(f, 'utf8')).toBe('pre-written');
    expect(existsSync(t)).toBe(false);
  });
});
