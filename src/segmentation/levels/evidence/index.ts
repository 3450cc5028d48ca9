/** Every piece of S1 evidence the decision (../decide.ts) weighs, in the order the debug output lists them. */
import type { EvidenceFn } from './types.js';
import { sacrumClassEvidence } from './sacrum-class.js';
import { lumbosacralAngleEvidence } from './lumbosacral-angle.js';
import { discPatternEvidence } from './disc-pattern.js';
import { thecalSacEvidence } from './thecal-sac.js';

export type { Evidence, EvidenceFn, Strength, Vote } from './types.js';
export { SACRUM_CLASS } from './sacrum-class.js';
export { LUMBOSACRAL } from './lumbosacral-angle.js';
export { DISC } from './disc-pattern.js';
export { THECAL_SAC } from './thecal-sac.js';

export const S1_EVIDENCE: EvidenceFn[] = [sacrumClassEvidence, lumbosacralAngleEvidence, discPatternEvidence, thecalSacEvidence];
