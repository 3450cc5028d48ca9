import type { Command } from '../common/command.js';

// Placeholder until the module lands; replaced by its owner.
export const phantomCommand: Command = {
  name: 'phantom',
  summary: 'phantom',
  help: 'Usage: osteoscreen phantom [options]\n\n(not implemented yet)',
  async run() {
    process.stderr.write('osteoscreen phantom: not implemented yet\n');
    return 3;
  },
};
