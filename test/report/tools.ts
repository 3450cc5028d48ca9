import { spawnSync } from 'node:child_process';

/** Run dciodvfy; returns its lines split into errors and warnings (dciodvfy prints to stderr). */
export function dciodvfy(file: string): { errors: string[]; warnings: string[]; out: string; status: number | null } {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  return { errors: lines.filter((l) => /^Error/i.test(l)), warnings: lines.filter((l) => /^Warning/i.test(l)), out, status: r.status };
}

/** dsrdump with long values printed in full. */
export function dsrdump(file: string): { status: number | null; out: string } {
  const r = spawnSync('dsrdump', ['+Pl', file], { encoding: 'utf8' });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** The dciodvfy warnings we know about and cannot fix: our private coding scheme is not in its list. */
export const KNOWN_PRIVATE_SCHEME_WARNING = /Unrecognized defined term <99OSTEO> for value 1 of attribute <Coding Scheme Designator>/;
