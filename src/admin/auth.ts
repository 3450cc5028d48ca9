import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented || !expected) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A short, non-secret id of a token for the audit log (first 8 hex of its SHA-256). */
export function tokenId(token: string): string {
  return 'tok-' + createHash('sha256').update(token).digest('hex').slice(0, 8);
}

/**
 * The admin token: from config, or generated once into `<data>/admin-token` (mode 0600).
 * Returns the token and, when it was generated or read from the file, where it lives.
 */
export function resolveAdminToken(configured: string, dataDir: string): { token: string; file?: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file, generated: false };
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, generated: true };
}

/** Extract "Bearer xyz" from an Authorization header. */
export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m?.[1]?.trim();
}
