#!/usr/bin/env node
import type { Command } from './common/command.js';
import { UsageError } from './common/command.js';

/** Commands are loaded lazily so `osteoscreen phantom` does not load onnxruntime, SQLite, etc. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the DICOM listener, pipeline and admin server', load: async () => (await import('./admin/serve-command.js')).serveCommand },
  phantom: { summary: 'write synthetic lumbar MRI phantom studies (tests/training only)', load: async () => (await import('./phantom/command.js')).phantomCommand },
  segment: { summary: 'segment L1-L5 vertebral bodies of a series', load: async () => (await import('./segmentation/command.js')).segmentCommand },
  'segment-eval': { summary: 'evaluate segmentation, level labels and the QA gate on labelled cases', load: async () => (await import('./segmentation/eval-command.js')).segmentEvalCommand },
  'roi-eval': { summary: 'feature agreement of the automatic ROI with an expert ROI (ICC, Bland-Altman)', load: async () => (await import('./model/roi-eval-command.js')).roiEvalCommand },
  features: { summary: 'compute PyRadiomics-compatible features for image + mask', load: async () => (await import('./radiomics/command.js')).featuresCommand },
  score: { summary: 'score a study (or a features CSV) with a radscore model', load: async () => (await import('./model/commands.js')).scoreCommand },
  cohort: { summary: 'extract T1/T2 features for a folder of studies (research)', load: async () => (await import('./pipeline/cohort-command.js')).cohortCommand },
  train: { summary: 'fit a LASSO radscore model with the reference study statistics', load: async () => (await import('./model/commands.js')).trainCommand },
  evaluate: { summary: 'evaluate a model on a labelled feature table', load: async () => (await import('./model/commands.js')).evaluateCommand },
  calibrate: { summary: 'learn site feature means/SDs (and cut-off) for a model', load: async () => (await import('./model/commands.js')).calibrateCommand },
  calibration: { summary: 'per-scanner calibration proposals: status, approve, dismiss, features', load: async () => (await import('./admin/calibration-command.js')).calibrationCommand },
  outcomes: { summary: 'DXA outcomes: import a CSV, unmatched outcomes, screening performance, labelled proposals', load: async () => (await import('./admin/outcomes-command.js')).outcomesCommand },
  backfill: { summary: 'retrospective campaigns over the PACS archive: start, status, pause, resume, cancel, export', load: async () => (await import('./backfill/command.js')).backfillCommand },
  bench: { summary: 'run benchmarks (ingest, radiomics, segment, e2e)', load: async () => (await import('./bench/command.js')).benchCommand },
  config: { summary: 'print the effective configuration or its reference', load: async () => (await import('./config/command.js')).configCommand },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'Usage: osteoscreen <command> [options]',
    '',
    'OsteoScreen: opportunistic screening support for abnormal bone mass on lumbar spine MRI.',
    'UNVERIFIED — research/screening use. Not a diagnosis.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`),
    '',
    'Run `osteoscreen <command> --help` for the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 1;
  }
  if (name === '--version') {
    const { createRequire } = await import('node:module');
    process.stdout.write(createRequire(import.meta.url)('../package.json').version + '\n');
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`osteoscreen: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help.trimEnd() + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`osteoscreen ${name}: ${e.message}\nRun \`osteoscreen ${name} --help\` for usage.\n`);
      return 2;
    }
    process.stderr.write(`osteoscreen ${name}: ${(e as Error).message}\n`);
    if (process.env.OSTEOSCREEN_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running: it resolves only on shutdown.
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`osteoscreen: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
