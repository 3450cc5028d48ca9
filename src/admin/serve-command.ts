import type { Command } from '../common/command.js';

// Placeholder until the module lands; replaced by its owner.
export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve',
  help: 'Usage: osteoscreen serve [options]\n\n(not implemented yet)',
  async run() {
    process.stderr.write('osteoscreen serve: not implemented yet\n');
    return 3;
  },
};
