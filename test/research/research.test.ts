/**
 * Research mode on real (phantom) images, end to end with the CLI as a researcher runs it:
 * phantom studies -> `osteoscreen cohort` -> features.csv -> `train` / `calibrate` -> model.json that
 * `osteoscreen serve` loads and scores a received study with.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT, startService } from '../helpers/service.js';
import { storescu } from '../helpers/dcmtk.js';
import { waitFor } from '../helpers/ports.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { parseFeatureTable } from '../../src/model/table.js';
import { loadModel } from '../../src/model/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-research-'));
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 1_500_000 }); // a hang guard only: 24 studies took > 600 s on a loaded machine

function dcm(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? dcm(p) : p.endsWith('.dcm') ? [p] : [];
  });
}

describe('research mode: cohort -> train/calibrate -> a model the service loads', () => {
  const studies = path.join(tmp, 'studies');
  let manifests: ReturnType<typeof writePhantomStudies> = [];
  beforeAll(() => {
    // 24 studies: `train` needs at least 20 assessable ones. Sagittal T1, T2 and a STIR distractor each; --fast rendering.
    manifests = [
      ...writePhantomStudies({ out: studies, seed: 7301, count: 12, bone: 'low', roles: ['t1', 't2', 'stir'], subSamples: 1 }),
      ...writePhantomStudies({ out: studies, seed: 7301, count: 12, start: 12, bone: 'normal', roles: ['t1', 't2', 'stir'], subSamples: 1 }),
    ];
    const labels = ['id,sex,age,t_score,z_score', ...manifests.map((m) => `${m.studyInstanceUID},F,60,${m.bone === 'low' ? -2.0 : 0.5},0`)];
    writeFileSync(path.join(tmp, 'labels.csv'), labels.join('\n') + '\n');
  }, 600_000);

  it('cohort extracts the full T1/T2 feature set per study with progress, and resumes from its cache', () => {
    const out = path.join(tmp, 'features.csv');
    const cache = path.join(tmp, 'cache');
    const r = run(['cohort', '--studies', studies, '--out', out, '--jobs', '2', '--cache', cache]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cohort 24\/24 \(100%\)/);
    expect(r.stderr).toMatch(/eta/);
    const t = parseFeatureTable(readFileSync(out, 'utf8'));
    expect(t.ids.sort()).toEqual(manifests.map((m) => m.studyInstanceUID).sort());
    const cols = t.columns;
    expect(cols.filter((c) => c.startsWith('T1_')).length).toBeGreaterThan(1000);
    expect(cols.filter((c) => c.startsWith('T2_')).length).toBeGreaterThan(1000);
    for (const needed of ['T1_original_shape_SurfaceVolumeRatio', 'T1_boxsigmaimage_glcm_Correlation', 'T2_wavelet-LLH_glszm_LargeAreaHighGrayLevelEmphasis', 'T2_log-sigma-4-0-mm-3D_firstorder_Median', 'T1_additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis'])
      expect(cols, needed).toContain(needed);
    const raw = readFileSync(out, 'utf8').split('\n')[0]!.split(',');
    expect(raw.slice(0, 3)).toEqual(['id', 'qa_state', 'qa_reason']);
    const okRows = readFileSync(out, 'utf8').trim().split('\n').slice(1).filter((l) => l.split(',')[1] === 'ok');
    expect(okRows.length).toBeGreaterThanOrEqual(20);
    // Second run: every assessed study comes from the cache, same table.
    const again = run(['cohort', '--studies', studies, '--out', path.join(tmp, 'features2.csv'), '--cache', cache]);
    expect(again.status, again.stderr).toBe(0);
    const assessedOrNot = readFileSync(out, 'utf8').trim().split('\n').slice(1).filter((l) => l.split(',')[1] !== 'failed');
    expect((again.stderr.match(/\(cached\)/g) ?? []).length).toBe(assessedOrNot.length);
    expect(readFileSync(path.join(tmp, 'features2.csv'), 'utf8')).toBe(readFileSync(out, 'utf8'));
  }, 2_000_000);

  it('train and calibrate produce model files that the service loads and scores with', async () => {
    const feats = path.join(tmp, 'features.csv');
    const tr = run(['train', '--features', feats, '--labels', path.join(tmp, 'labels.csv'), '--out', path.join(tmp, 'trained.json'), '--report', path.join(tmp, 'report'), '--split', 'none', '--lambda', '0.05', '--name', 'phantom-test', '--version', '0.0.1']);
    expect(tr.status, tr.stderr).toBe(0);
    expect(existsSync(path.join(tmp, 'report', 'report.html'))).toBe(true);
    const trained = loadModel(path.join(tmp, 'trained.json'));
    expect(trained.terms.length).toBeGreaterThan(0);
    const cal = run(['calibrate', '--model', path.join(ROOT, 'models', 'paper-t1t2.json'), '--features', feats, '--labels', path.join(tmp, 'labels.csv'), '--out', path.join(tmp, 'calibrated.json')]);
    expect(cal.status, cal.stderr).toBe(0);
    expect(loadModel(path.join(tmp, 'calibrated.json')).calibrated).toBe(true);

    for (const [file, name] of [[path.join(tmp, 'trained.json'), 'phantom-test'], [path.join(tmp, 'calibrated.json'), 'paper-t1t2-radscore']] as const) {
      const svc = await startService({ env: { OSTEOSCREEN_MODEL_FILE: file } });
      try {
        const model = await svc.json<any>('/api/model');
        expect(JSON.stringify(model)).toContain(name);
        const m = manifests[0]!;
        expect(storescu(svc.dicomPort, dcm(path.join(studies, m.dir))).status).toBe(0);
        const st = await waitFor(async () => {
          const s = await svc.json<any>(`/api/studies/${m.studyInstanceUID}`);
          return ['done', 'not-assessable', 'failed'].includes(s.state) ? s : undefined;
        }, 'study scored with the research model', 180_000, 500);
        expect(st.state, st.reason).toBe('done');
        expect(st.job.result.model.name).toBe(name);
        expect(typeof st.score).toBe('number');
      } finally {
        await svc.stop();
      }
    }
  }, 900_000);
});
