/**
 * DICOM UID helpers.
 *
 * - `newUid(root?)`: a fresh random UID. Without a root it is a `2.25.` UUID-derived UID (PS3.5 B.2);
 *   with a root it is `<root>.<decimal of 96 random bits>` (truncated to fit 64 characters).
 * - `deterministicUid(...parts)`: `2.25.<decimal of the first 128 bits of SHA-256(parts joined by NUL)>`.
 *   The same parts always give the same UID, which is what makes output series reproducible
 *   (see src/report/uids.ts for how report series/instance UIDs are derived).
 * - `isValidUid(s)`: PS3.5 §9.1 syntax: 1–64 chars, components of digits separated by single dots,
 *   no leading zero in a multi-digit component.
 */
import { createHash, randomBytes } from 'node:crypto';

export const UID_MAX_LENGTH = 64;

function bytesToDecimal(buf: Uint8Array): string {
  let n = 0n;
  for (const b of buf) n = (n << 8n) | BigInt(b);
  return n.toString(10);
}

export function isValidUid(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0 || s.length > UID_MAX_LENGTH) return false;
  const parts = s.split('.');
  if (parts.length < 2) return false;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]*)$/.test(p)) return false;
  }
  return true;
}

/** A new random UID, optionally under an organisation root (e.g. "1.2.826.0.1.3680043.10.xxx"). */
export function newUid(root?: string): string {
  if (root === undefined || root === '' || root === '2.25') {
    const b = randomBytes(16);
    // RFC 4122 version 4 / variant bits, as for a UUID, then its 128-bit integer in decimal.
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    return `2.25.${bytesToDecimal(b)}`;
  }
  if (!isValidUid(root) && !/^[0-9]+$/.test(root)) throw new Error(`invalid UID root: ${root}`);
  const room = UID_MAX_LENGTH - root.length - 1;
  if (room < 8) throw new Error(`UID root too long for a unique suffix: ${root}`);
  let suffix = bytesToDecimal(randomBytes(12)).replace(/^0+/, '') || '1';
  if (suffix.length > room) suffix = suffix.slice(0, room).replace(/^0+/, '') || '1';
  return `${root}.${suffix}`;
}

/**
 * A UID that depends only on `parts`: 2.25.<decimal of the first 128 bits of SHA-256>.
 * Parts are joined with a NUL separator, so ("a","bc") and ("ab","c") differ.
 */
export function deterministicUid(...parts: Array<string | number>): string {
  if (parts.length === 0) throw new Error('deterministicUid needs at least one part');
  const h = createHash('sha256').update(parts.map(String).join('\u0000')).digest();
  const b = Uint8Array.from(h.subarray(0, 16));
  return `2.25.${bytesToDecimal(b)}`;
}
