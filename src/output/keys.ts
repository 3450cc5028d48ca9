import { createHash } from 'node:crypto';

/**
 * A URL as it appears in outbox destination keys, logs and the admin page: scheme, host, port and path; a query
 * string (where receivers often put a token) is replaced by a short hash of it, so two URLs differing only in
 * their query still get different keys.
 */
export function urlKey(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return `${url.slice(0, q)}?#${createHash('sha256').update(url.slice(q)).digest('hex').slice(0, 8)}`;
}
