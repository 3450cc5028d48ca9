import type { Command } from '../common/command.js';

// Placeholder until the module lands; replaced by its owner.
export const featuresCommand: Command = {
  name: 'features',
  summary: 'features',
  help: 'Usage: osteoscreen features [options]\n\n(not implemented yet)',
  async run() {
    process.stderr.write('osteoscreen features: not implemented yet\n');
    return 3;
  },
};
