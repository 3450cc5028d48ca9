import type { Command } from '../common/command.js';

// Placeholder until the module lands; replaced by its owner.
export const segmentCommand: Command = {
  name: 'segment',
  summary: 'segment',
  help: 'Usage: osteoscreen segment [options]\n\n(not implemented yet)',
  async run() {
    process.stderr.write('osteoscreen segment: not implemented yet\n');
    return 3;
  },
};
