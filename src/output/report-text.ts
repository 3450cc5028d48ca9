/**
 * A stored job result (the job result view) as the report builders' text input, so outputs built after the
 * analysis (HL7 v2, FHIR) say exactly what the SR says (report/header.ts reportStatements, findingCode).
 */
import type { JobResult } from '../store/job-result.js';
import type { ReportTextInput } from '../report/header.js';

export function reportTextOf(view: JobResult, algorithmVersion: string): ReportTextInput {
  const scored = view.kind === 'scored' && view.score !== null && view.cutoff !== null;
  return {
    result: scored
      ? {
          kind: 'scored',
          score: view.score!,
          cutoff: view.cutoff!,
          flag: view.flag,
          noFlag: view.noFlag,
          calibrated: view.calibrated ?? false,
          terms: view.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.value, z: t.z, coefficient: t.coefficient, contribution: t.contribution })),
          levels: view.levels.map((l) => ({ level: l.level, volumeMm3: l.volumeMm3 })),
        }
      : { kind: 'not-assessable', reason: view.reason ?? 'not assessable' },
    // A not-assessable result does not record whether the model was calibrated: left out (null), not guessed.
    model: { ...(view.model ?? { name: 'none', version: '-', hash: '' }), calibrated: scored ? (view.calibrated ?? false) : null },
    modelChoice: view.modelChoice?.reason,
    algorithm: { name: 'OsteoScreen', version: algorithmVersion },
  };
}
