import { freePort as anyFreePort } from '../../src/bench/peers.js';

const handedOut = new Set<number>();

/**
 * A TCP port that is free right now on loopback and that this test process has not handed out before: the
 * kernel can return the same ephemeral port to two listen(0) calls in a row, which gave a service the same
 * DICOM and HTTP port ("HTTP port … is already in use").
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const p = await anyFreePort();
    if (!handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error('no fresh free TCP port on loopback');
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
