/**
 * Vitest global setup: every test run gets one temporary folder of its own, handed to the test processes (and the
 * services, tools and Orthanc instances they start) as TMPDIR, and removed with everything in it when the run
 * ends. Test files create their folders with os.tmpdir() as usual; none of them outlives the run, so repeated runs
 * do not fill the disk (they had: about 1 GB per full run, until a test that needs 6 GB free refused to run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const root = mkdtempSync(path.join(os.tmpdir(), 'osteoscreen-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(root, { recursive: true, force: true });
  };
}
