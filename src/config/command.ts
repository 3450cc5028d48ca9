import type { Command } from '../common/command.js';
import { parseOptions } from '../common/command.js';
import { configSchema } from './schema.js';
import { envVarName, loadConfig, maskedConfig } from './load.js';
import YAML from 'yaml';

/** Markdown table of every key: env var, default, description — generated from the schema. */
export function configReference(): string {
  const defaults = configSchema.parse({}) as Record<string, Record<string, unknown>>;
  const shape = configSchema.shape as Record<string, any>;
  const rows = ['| key | env var | default | description |', '|---|---|---|---|'];
  for (const [section, keys] of Object.entries(defaults)) {
    const inner = shape[section]._zod.def.innerType.shape as Record<string, any>;
    for (const key of Object.keys(inner)) {
      const desc = (inner[key]?.description ?? '').replace(/\|/g, '\\|');
      const def = key in keys ? `\`${JSON.stringify(keys[key])}\`` : '(unset)';
      rows.push(`| \`${section}.${key}\` | \`${envVarName(section, key)}\` | ${def} | ${desc} |`);
    }
  }
  return rows.join('\n');
}

export const configCommand: Command = {
  name: 'config',
  summary: 'print the effective configuration or its reference',
  help: `Usage: osteoscreen config [--config FILE] [--markdown] [--defaults]

Prints the effective configuration (YAML file + OSTEOSCREEN_* env vars), secrets masked.
  --config FILE   config file (default: $OSTEOSCREEN_CONFIG or the embedded defaults)
  --markdown      print the reference table of every key (as in the README)
  --defaults      print the embedded defaults as YAML (what config/default.yaml holds)`,
  async run(argv) {
    const { values } = parseOptions(argv, { config: { type: 'string' }, markdown: { type: 'boolean' }, defaults: { type: 'boolean' } });
    if (values.markdown) process.stdout.write(configReference() + '\n');
    else if (values.defaults) process.stdout.write(YAML.stringify(configSchema.parse({})));
    else process.stdout.write(YAML.stringify(maskedConfig(loadConfig({ file: values.config }))));
    return 0;
  },
};
