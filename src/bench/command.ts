import type { Command } from '../common/command.js';
import { UsageError } from '../common/command.js';

const BENCHES: Record<string, { summary: string; load: () => Promise<(argv: string[]) => Promise<void>> }> = {
  ingest: { summary: 'instances/s, MB/s, latency, stall, RSS received: OsteoScreen vs dcmtk storescp vs Orthanc (own no-delay SCU and storescu senders); then the disk floor and the CPU budget of this machine', load: async () => (await import('./ingest.js')).benchIngest },
  radiomics: { summary: 'full feature set per sequence (seconds per image type)', load: async () => (await import('./radiomics.js')).benchRadiomics },
  segment: { summary: 'segmentation seconds per series (15x320x320; --real DIR adds real series) and peak RSS', load: async () => (await import('./segment.js')).benchSegment },
  outcomes: { summary: 'DXA outcome import: 100 000 CSV rows in-process and by the CLI into a running service (seconds, event-loop stall)', load: async () => (await import('./outcomes.js')).benchOutcomes },
  backfill: { summary: 'campaign over a local Orthanc: studies/hour end to end, retrieval vs analysis share', load: async () => (await import('./backfill.js')).benchBackfill },
  e2e: { summary: 'last instance received -> SR in Orthanc, per stage, service peak RSS', load: async () => (await import('./e2e.js')).benchE2e },
};

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run benchmarks',
  help: `Usage: osteoscreen bench [NAME ...] [options]      (npm run bench -- NAME)

Benchmarks print tables with absolute figures and ratios; they are not tests and never fail on speed.
With no NAME, all run in turn.

${Object.entries(BENCHES)
  .map(([k, v]) => `  ${k.padEnd(10)} ${v.summary}`)
  .join('\n')}

Options are passed to each benchmark, e.g. \`osteoscreen bench ingest --rows 256 --cols 256 --senders 4 --count 250 [--rounds N] [--no-orthanc] [--no-floor]\`.`,
  async run(argv) {
    const names = argv.filter((a) => !a.startsWith('-') && a in BENCHES);
    const rest = argv.filter((a) => !names.includes(a));
    const unknown = argv.filter((a, i) => !a.startsWith('-') && !(a in BENCHES) && !(i > 0 && argv[i - 1]!.startsWith('--') && !argv[i - 1]!.includes('=')));
    if (unknown.length) throw new UsageError(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
    for (const name of names.length ? names : Object.keys(BENCHES)) {
      const run = await BENCHES[name]!.load();
      await run(names.length ? rest : []);
    }
    return 0;
  },
};
