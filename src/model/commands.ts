import type { Command } from '../common/command.js';
// Placeholder until the module lands; replaced by its owner.
export const scoreCommand: Command = { name: 'score', summary: 'score', help: 'Usage: osteoscreen score [options]\n\n(not implemented yet)', async run() { process.stderr.write('osteoscreen score: not implemented yet\n'); return 3; } };
export const cohortCommand: Command = { name: 'cohort', summary: 'cohort', help: 'Usage: osteoscreen cohort [options]\n\n(not implemented yet)', async run() { process.stderr.write('osteoscreen cohort: not implemented yet\n'); return 3; } };
export const trainCommand: Command = { name: 'train', summary: 'train', help: 'Usage: osteoscreen train [options]\n\n(not implemented yet)', async run() { process.stderr.write('osteoscreen train: not implemented yet\n'); return 3; } };
export const evaluateCommand: Command = { name: 'evaluate', summary: 'evaluate', help: 'Usage: osteoscreen evaluate [options]\n\n(not implemented yet)', async run() { process.stderr.write('osteoscreen evaluate: not implemented yet\n'); return 3; } };
export const calibrateCommand: Command = { name: 'calibrate', summary: 'calibrate', help: 'Usage: osteoscreen calibrate [options]\n\n(not implemented yet)', async run() { process.stderr.write('osteoscreen calibrate: not implemented yet\n'); return 3; } };
