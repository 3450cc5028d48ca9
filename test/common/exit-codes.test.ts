/**
 * Exit codes of the binary itself (node dist/cli.js, built by `npm test`), as the README ("Exit codes") and each
 * command's --help state them: no command 1 (usage on stdout), unknown command 2, usage error 2, runtime error 1
 * (features: 3), segment on a series it cannot assess 4.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT } from '../helpers/service.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-exit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: tmp, encoding: 'utf8', timeout: 180_000, env: { ...process.env, OSTEOSCREEN_CONFIG: '' } });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('osteoscreen exit codes (dist/cli.js)', () => {
  it('the README documents them', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(
      'Exit codes: 0 success, 1 error, 2 usage error (also an unknown command); no command at all prints the usage and exits 1; `segment` exits 4 when the series is not assessable, `features` 3 on a failure and 1 when some batch cases failed.',
    );
  });

  it('no arguments: usage on stdout, exit 1; --help: exit 0', () => {
    const r = cli();
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^Usage: osteoscreen <command> \[options\]/);
    expect(r.stdout).toContain('segment-eval');
    const h = cli('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toBe(r.stdout);
  });

  it('an unknown command: exit 2, named on stderr with the usage', () => {
    const r = cli('segmnet', '--series', 'x');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^osteoscreen: unknown command "segmnet"\n\nUsage: osteoscreen <command>/);
  });

  it('a usage error: exit 2, the problem and where to find the usage on stderr', () => {
    const unknownOption = cli('segment', '--series', 'a', '--out', 'b.nii.gz', '--bogus');
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toContain("osteoscreen segment: Unknown option '--bogus'\nRun `osteoscreen segment --help` for usage.");
    const missing = cli('segment', '--out', 'b.nii.gz');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('osteoscreen segment: missing required option --series');
    const features = cli('features', '--image', 'a.nrrd');
    expect(features.status).toBe(2);
    expect(features.stderr).toContain('--image and --mask are required');
  });

  it('a runtime error (input file missing): exit 1 (segment), 3 (features, as its --help says)', () => {
    const missing = path.join(tmp, 'no-such-series');
    const seg = cli('segment', '--series', missing, '--out', path.join(tmp, 'm.nii.gz'));
    expect(seg.status, seg.stderr).toBe(1);
    expect(seg.stderr).toMatch(new RegExp(`^osteoscreen segment: ENOENT: no such file or directory, stat '${missing}'`));
    const feat = cli('features', '--image', missing + '.nrrd', '--mask', missing + '-mask.nrrd');
    expect(feat.status, feat.stderr).toBe(3);
    expect(feat.stderr).toContain(`no such file or folder: ${missing}.nrrd`);
    expect(cli('features', '--help').stdout).toContain('Exit codes: 0 ok, 1 some cases failed (batch), 2 usage error, 3 failure.');
  });

  it('segment: 4 when the series is not assessable (a phantom T2 series checked as T1), 0 when it is (the same series as T2)', () => {
    expect(cli('segment', '--help').stdout).toContain('Exit code: 0 assessable, 4 not assessable (reason on stderr / in the JSON), 1 error, 2 usage.');
    const ph = cli('phantom', '--out', path.join(tmp, 'ph'), '--seed', '5', '--roles', 't2', '--fast');
    expect(ph.status, ph.stderr).toBe(0);
    const studyDir = path.join(tmp, 'ph', 'study-0001');
    const seriesDirs = readdirSync(studyDir).filter((d) => d.startsWith('series-'));
    expect(seriesDirs).toHaveLength(1);
    const series = path.join(studyDir, seriesDirs[0]!);
    const out = path.join(tmp, 'levels.nii.gz');
    const t1 = cli('segment', '--series', series, '--out', out, '--sequence', 'T1', '--json');
    expect(t1.status, t1.stderr).toBe(4);
    expect(t1.stderr).toMatch(/osteoscreen segment: not assessable: contrast is not T1-weighted/);
    expect(JSON.parse(t1.stdout)).toMatchObject({ ok: false, sequence: 'T1' });
    expect(existsSync(out)).toBe(true); // the (empty) mask is still written
    const t2 = cli('segment', '--series', series, '--out', out, '--sequence', 'T2');
    expect(t2.status, t2.stderr).toBe(0);
  });
});
