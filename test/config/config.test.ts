import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig, ConfigError, envVarName, parseDestination, configSchema } from '../../src/config/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-cfg-'));
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
};

describe('config', () => {
  it('embedded defaults match the documented contract', () => {
    const c = loadConfig({ env: {} });
    expect(c.dicom.port).toBe(11112);
    expect(c.dicom.aeTitle).toBe('OSTEOSCREEN');
    expect(c.http.port).toBe(8080);
    expect(c.storage.dir).toBe('./data');
    expect(c.pipeline.stableSeconds).toBe(60);
    // No flag from an uncalibrated model unless a site opts in; the out-of-range guard at |z| 4; proposals at 50.
    expect(c.model.requireCalibrated).toBe(true);
    expect(c.model.maxAbsZ).toBe(4);
    expect(c.model.rangeMarginSd).toBe(1);
    expect(c.calibration.minStudies).toBe(50);
  });

  it('config/default.yaml equals the schema defaults', () => {
    const file = YAML.parse(readFileSync(new URL('../../config/default.yaml', import.meta.url), 'utf8'));
    expect(file).toEqual(configSchema.parse({}));
  });

  it('env vars OSTEOSCREEN_<SECTION>_<KEY> override file values, with type coercion', () => {
    const f = write('a.yaml', 'dicom:\n  port: 2000\n');
    const c = loadConfig({
      file: f,
      env: {
        OSTEOSCREEN_DICOM_PORT: '4242',
        OSTEOSCREEN_DICOM_AE_TITLE: 'MYAE',
        OSTEOSCREEN_HTTP_PORT: '9000',
        OSTEOSCREEN_HTTP_TOKEN: 'secret',
        OSTEOSCREEN_STORAGE_DIR: '/tmp/x',
        OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '1.5',
        OSTEOSCREEN_DICOM_ALLOWED_CALLING_AE_TITLES: 'A, B',
        OSTEOSCREEN_MODEL_REQUIRE_CALIBRATED: 'false',
      },
    });
    expect(c.dicom.port).toBe(4242);
    expect(c.dicom.aeTitle).toBe('MYAE');
    expect(c.http.port).toBe(9000);
    expect(c.http.token).toBe('secret');
    expect(c.storage.dir).toBe('/tmp/x');
    expect(c.pipeline.stableSeconds).toBe(1.5);
    expect(c.dicom.allowedCallingAeTitles).toEqual(['A', 'B']);
    expect(c.model.requireCalibrated).toBe(false);
    expect(envVarName('storage', 'minFreeMb')).toBe('OSTEOSCREEN_STORAGE_MIN_FREE_MB');
  });

  it('an invalid file names the key and what is wrong', () => {
    const f = write('bad.yaml', 'dicom:\n  port: "eleven"\n');
    expect(() => loadConfig({ file: f, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ file: f, env: {} })).toThrow(/dicom\.port/);
    const g = write('bad2.yaml', 'dicom:\n  prot: 11112\n');
    expect(() => loadConfig({ file: g, env: {} })).toThrow(/unknown key\(s\): dicom\.prot/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_DICOM_PORT: 'abc' } })).toThrow(/^OSTEOSCREEN_DICOM_PORT \(dicom\.port\): expected a number/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_DICOM_PORT: '70000' } })).toThrow(/dicom\.port/);
  });

  it('parses the single-destination shorthand', () => {
    expect(parseDestination('ORTHANC@127.0.0.1:4242')).toEqual({ aeTitle: 'ORTHANC', host: '127.0.0.1', port: 4242 });
    expect(() => parseDestination('nonsense')).toThrow(/AET@host:port/);
    const c = loadConfig({ env: { OSTEOSCREEN_OUTPUT_DESTINATION: 'PACS@pacs.local:104' } });
    expect(c.output.destinations).toEqual([{ aeTitle: 'PACS', host: 'pacs.local', port: 104 }]);
  });
});

describe('README', () => {
  it('holds the config reference generated from the schema (osteoscreen config --markdown)', async () => {
    const { configReference } = await import('../../src/config/command.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configReference());
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});

describe('models checked at start', () => {
  it('a radscore model that does not load stops the start with the key and the reason; the shipped one passes', async () => {
    const { checkModels } = await import('../../src/service.js');
    const missing = loadConfig({ env: { OSTEOSCREEN_MODEL_FILE: path.join(tmp, 'no-such-model.json') } });
    expect(() => checkModels(missing)).toThrow(ConfigError);
    expect(() => checkModels(missing)).toThrow(/model\.file \(OSTEOSCREEN_MODEL_FILE\): cannot load the radscore model: cannot read .*no-such-model\.json/);
    const shipped = JSON.parse(readFileSync(new URL('../../models/paper-t1t2.json', import.meta.url), 'utf8'));
    const tampered = write('tampered.json', JSON.stringify({ ...shipped, cutoff: 0.1 }));
    expect(() => checkModels(loadConfig({ env: { OSTEOSCREEN_MODEL_FILE: tampered } }))).toThrow(/model\.file .*hash/i);
    expect(() => checkModels(loadConfig({ env: {} }))).not.toThrow();
  });

  it('a segmentation.erosionMm that disagrees with the model\'s ROI stops the start with both values', async () => {
    const { checkModels } = await import('../../src/service.js');
    const bad = loadConfig({ env: { OSTEOSCREEN_SEGMENTATION_EROSION_MM: '2' } });
    expect(() => checkModels(bad)).toThrow(ConfigError);
    expect(() => checkModels(bad)).toThrow(/segmentation\.erosionMm is 2 mm but the radscore model paper-t1t2-radscore [\d.]+ was made with extraction\.roi\.erosionMm 1\.5 mm/);
    expect(() => checkModels(loadConfig({ env: { OSTEOSCREEN_SEGMENTATION_EROSION_MM: '1.5' } }))).not.toThrow();
    expect(loadConfig({ env: {} }).segmentation.erosionMm).toBeUndefined();
  });
});
