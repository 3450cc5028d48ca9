import { test } from 'vitest';
import { spawnSync } from 'node:child_process';

/** CI sets CI=true (.ci/run installs every tool the tests use). */
export const IN_CI = process.env.CI === 'true';

/**
 * Whether tests that need `what` must be skipped because it is missing. Use it where the tests are declared:
 * `describe.skipIf(skipWithout(have('x'), 'x', 'pkg'))(...)` or `it.skipIf(...)`.
 * - Available: false (the tests run).
 * - Missing, CI=true: a failure. A test named after the tool is registered at the same place and fails; the
 *   tests that need the tool are skipped (they could only fail with a less clear error).
 * - Missing locally: true, with a message on stderr saying what was skipped and how to install it.
 */
export function skipWithout(available: boolean, what: string, install: string): boolean {
  if (available) return false;
  const msg = `${what} not found (install: ${install})`;
  if (IN_CI) {
    test(`needs ${what} (CI=true: a missing tool is a failure)`, () => {
      throw new Error(`${msg}: CI=true and .ci/run installs it, so the tests that need it must not be skipped`);
    });
  } else {
    process.stderr.write(`\n!!! ${msg}: the tests that need it are SKIPPED (with CI=true this is a failure) !!!\n\n`);
  }
  return true;
}

/** The Debian package that provides each command the tests run (all installed by .ci/run). */
const PACKAGE: Record<string, string> = {
  storescu: 'dcmtk',
  echoscu: 'dcmtk',
  dcmconv: 'dcmtk',
  dcmcjpls: 'dcmtk',
  dcmcrle: 'dcmtk',
  dcmcjpeg: 'dcmtk',
  zzuf: 'zzuf',
  fallocate: 'util-linux',
  dciodvfy: 'dicom3tools',
};

/** skipWithout for commands on the PATH: skip (locally) or fail (CI=true) unless every one is there. */
export function skipWithoutCommands(...cmds: string[]): boolean {
  const missing = cmds.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  return skipWithout(missing.length === 0, missing.join(', '), `Debian package ${[...new Set(missing.map((c) => PACKAGE[c] ?? c))].join(' ')}`);
}
