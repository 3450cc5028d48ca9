import type { Command } from '../common/command.js';

// Placeholder until the module lands; replaced by its owner.
export const benchCommand: Command = {
  name: 'bench',
  summary: 'bench',
  help: 'Usage: osteoscreen bench [options]\n\n(not implemented yet)',
  async run() {
    process.stderr.write('osteoscreen bench: not implemented yet\n');
    return 3;
  },
};
