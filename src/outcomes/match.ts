/**
 * Linking DXA outcomes to screened studies (pure). A study is labelled by a DXA of the same patient (identifier and
 * issuer, as the identity section reads them from the images) within ± windowDays of the MRI; of several, the
 * nearest wins (a tie: the earlier DXA), and the others are shown as alternatives. Nothing is guessed: a study
 * without identity or date is not matched, an outcome no study chose is kept and listed with the reason.
 */
import { deriveLabel, type LabelRule, type LabelRow } from '../model/labels.js';
import type { OutcomeRow, ScreenedStudy } from '../store/index.js';

export interface MatchOptions {
  windowDays: number;
  rule: LabelRule;
  /** Maps an issuer to the key it is compared by (e.g. its FHIR system): "HOSP" and its OID then match. */
  issuerKey?: (issuer: string) => string;
}

export interface Pair {
  study: ScreenedStudy;
  outcome: OutcomeRow;
  /** DXA date minus MRI date, in days (negative: the DXA came first). */
  days: number;
  label: 0 | 1 | null;
  rule: LabelRow['rule'];
  /** Other DXA results of the patient within the window (not chosen). */
  alternatives: { id: number; dxaDate: string; days: number }[];
}

export interface Unmatched {
  outcome: OutcomeRow;
  reason: string;
}

export interface MatchResult {
  pairs: Pair[];
  unmatched: Unmatched[];
  /** Scored studies that cannot be matched, by reason. */
  studiesWithout: { identity: number; date: number };
}

const DAY = 86_400_000;
const dayOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY;

export function matchOutcomes(studies: ScreenedStudy[], outcomes: OutcomeRow[], opts: MatchOptions): MatchResult {
  const key = (id: string, issuer: string) => `${opts.issuerKey ? opts.issuerKey(issuer) : issuer}\u0000${id}`;
  const byPatient = new Map<string, OutcomeRow[]>();
  for (const o of outcomes) {
    const k = key(o.patientId, o.issuer);
    const l = byPatient.get(k);
    if (l) l.push(o);
    else byPatient.set(k, [o]);
  }
  const pairs: Pair[] = [];
  const chosen = new Set<number>();
  /** Per outcome: the nearest screened study of the patient (days), to say why it was not chosen. */
  const nearestStudy = new Map<number, number>();
  const studiesWithout = { identity: 0, date: 0 };
  for (const s of studies) {
    if (!s.patientId || !s.issuer) {
      studiesWithout.identity++;
      continue;
    }
    if (!s.studyDate) {
      studiesWithout.date++;
      continue;
    }
    const cands = byPatient.get(key(s.patientId, s.issuer));
    if (!cands) continue;
    const mri = dayOf(s.studyDate);
    const inWindow: { o: OutcomeRow; days: number }[] = [];
    for (const o of cands) {
      const days = dayOf(o.dxaDate) - mri;
      const prev = nearestStudy.get(o.id);
      if (prev === undefined || Math.abs(days) < Math.abs(prev)) nearestStudy.set(o.id, days);
      if (Math.abs(days) <= opts.windowDays) inWindow.push({ o, days });
    }
    if (!inWindow.length) continue;
    inWindow.sort((a, b) => Math.abs(a.days) - Math.abs(b.days) || a.days - b.days || a.o.id - b.o.id);
    const best = inWindow[0]!;
    chosen.add(best.o.id);
    const { label, rule } = deriveLabel(best.o.sex, best.o.age, best.o.tScore, best.o.zScore, opts.rule);
    pairs.push({
      study: s,
      outcome: best.o,
      days: best.days,
      label,
      rule,
      alternatives: inWindow.slice(1).map((x) => ({ id: x.o.id, dxaDate: x.o.dxaDate, days: x.days })),
    });
  }
  const unmatched: Unmatched[] = [];
  for (const o of outcomes) {
    if (chosen.has(o.id)) continue;
    const near = nearestStudy.get(o.id);
    let reason: string;
    if (near === undefined) reason = 'no screened study of this patient (identifier and issuer)';
    else if (Math.abs(near) > opts.windowDays) reason = `the patient's nearest screened study is ${Math.abs(near)} days ${near < 0 ? 'after' : 'before'} this DXA (window ± ${opts.windowDays} days)`;
    else reason = 'another DXA of this patient is nearer to each of its screened studies in the window';
    unmatched.push({ outcome: o, reason });
  }
  return { pairs, unmatched, studiesWithout };
}
