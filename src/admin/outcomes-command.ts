import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Command } from '../common/command.js';
import { UsageError, parseOptions } from '../common/command.js';
import { loadConfig } from '../config/load.js';
import { openStore } from '../store/index.js';
import { importOutcomeCsv } from '../outcomes/import.js';
import { loadConfiguredModel } from './model-card.js';
import { outcomesReport, performanceReport } from './performance.js';
import { labelledFile, labelledProposals } from './performance-proposal.js';

export const outcomesCommand: Command = {
  name: 'outcomes',
  summary: 'DXA outcomes: import a CSV, list unmatched, screening performance, labelled cut-off proposals',
  help: `Usage: osteoscreen outcomes import --csv FILE [--config FILE] [--data DIR]
       osteoscreen outcomes status|performance|proposals [--config FILE] [--data DIR]
       osteoscreen outcomes labels|features SCANNER_ID [--out F.csv] [--config FILE] [--data DIR]

Works on the data folder of the service (storage.dir) directly; the service may be running (SQLite WAL: the import
commits in batches of 500 rows, so the service waits at most a few milliseconds for each).
  import       stores the DXA results of a CSV with the columns patient_id, issuer, dxa_date (YYYY-MM-DD),
               t_score (lowest of L1-L4), z_score, age, sex (F/M) and optionally t_site, z_site (README, DXA
               outcomes). A bad row is reported with its line number and the reason; the good rows are stored.
               Exit 0 when every row was stored, 3 when some were refused, 1 when none could be read.
  status       the JSON of GET /api/outcomes: counts, unmatched outcomes with the reason, matches.
  performance  the JSON of GET /api/performance (per scanner and model version).
  proposals    the JSON of GET /api/performance/proposals (labelled cut-off proposals).
  labels, features   a scanner's labelled proposal input files: \`osteoscreen calibrate --labels ... --cutoff-only\`
               on them gives the proposed model file.`,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { config: { type: 'string' }, data: { type: 'string' }, csv: { type: 'string' }, out: { type: 'string' } }, true);
    const [action, id] = positionals;
    if (!action || !['import', 'status', 'performance', 'proposals', 'labels', 'features'].includes(action)) {
      throw new UsageError(`expected an action: import, status, performance, proposals, labels, features`);
    }
    if (action === 'import' && !values.csv) throw new UsageError('import needs --csv FILE');
    if ((action === 'labels' || action === 'features') && !id) throw new UsageError(`${action} needs a SCANNER_ID (see \`osteoscreen outcomes proposals\`)`);
    const config = loadConfig({ file: values.config, overrides: values.data ? { storage: { dir: values.data } } : undefined });
    let text = '';
    if (action === 'import') {
      try {
        text = readFileSync(values.csv!, 'utf8');
      } catch (e) {
        throw new Error(`cannot read ${values.csv}: ${(e as Error).message}`);
      }
    }
    const store = openStore(config.storage.dir);
    try {
      const deps = { config, store, model: loadConfiguredModel(config).model };
      const out = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 1) + '\n');
      if (action === 'import') {
        const r = await importOutcomeCsv(store, text, values.csv!, config.identity.defaultIssuer);
        store.audit.record({ actor: `cli:${os.userInfo().username}`, ip: null, action: 'outcomes-import', target: null, detail: { source: 'csv', stored: r.stored, rejected: r.rejected.length } });
        for (const b of r.rejected) process.stderr.write(`line ${b.line}: ${b.error}\n`);
        if (r.ignoredColumns?.length) process.stderr.write(`ignored columns: ${r.ignoredColumns.join(', ')}\n`);
        process.stderr.write(`${r.stored} outcomes stored, ${r.rejected.length} rows refused\n`);
        return r.rejected.length ? 3 : 0;
      }
      if (action === 'status') out(outcomesReport(deps));
      else if (action === 'performance') out(performanceReport(deps));
      else if (action === 'proposals') out(labelledProposals(deps));
      else {
        const f = labelledFile(deps, id!, action as 'labels' | 'features');
        if (values.out) writeFileSync(values.out, f.text);
        else process.stdout.write(f.text);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
