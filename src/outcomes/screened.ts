/**
 * Recording a scored study for DXA matching: its patient identity (section identity, read from a stored instance
 * once per job), MRI date, radscore, cut-off and model. Kept in the index (screened_studies) so that matching still
 * works after retention deleted the instance files. A study without identity is recorded with the reason, so the
 * page can count it; nothing of it reaches a log.
 */
import type { Store } from '../store/index.js';
import type { Config } from '../config/schema.js';
import { studyIdentity, type IdentityResult } from '../output/identity.js';
import { isoDate } from './record.js';

export interface ScoredInfo {
  scanner: string;
  jobId: number;
  studyUid: string;
  score?: { score: number; cutoff: number; model: { name: string; version: string; hash: string } };
  identity?: () => IdentityResult;
}

export function recordScreened(store: Store, config: Pick<Config, 'identity'>, info: ScoredInfo): void {
  if (!info.score) return;
  let id: IdentityResult = info.identity?.() ?? studyIdentity(store, info.studyUid, config.identity);
  // Matching needs the patient identifier and issuer only: a study without an accession number still matches.
  if (!id.ok && id.reason.startsWith('no accession number')) id = studyIdentity(store, info.studyUid, { ...config.identity, accessionAttribute: 'StudyInstanceUID' });
  const st = store.index.getStudy(info.studyUid);
  store.outcomes.recordScreened({
    studyUid: info.studyUid,
    jobId: info.jobId,
    scanner: info.scanner,
    patientId: id.ok ? id.identity.patientId : null,
    issuer: id.ok ? id.identity.issuer : null,
    identityProblem: id.ok ? null : id.reason,
    studyDate: st?.study_date ? isoDate(st.study_date) : null,
    score: info.score.score,
    cutoff: info.score.cutoff,
    modelName: info.score.model.name,
    modelVersion: info.score.model.version,
    modelHash: info.score.model.hash,
  });
}
