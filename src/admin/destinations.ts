/**
 * Per-destination delivery state for the admin page and GET /api/outbox/destinations: every configured
 * destination (DICOM C-STORE, STOW-RS, webhook, HL7 v2, FHIR), and any key that still has outbox rows but is no longer
 * configured, with its rows by state, last success, newest error and next attempt.
 */
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { destinationKey } from '../pipeline/deliver.js';
import { stowKey } from '../output/stow.js';
import { webhookKey } from '../output/webhook.js';
import { hl7Key } from '../output/hl7.js';
import { fhirKey } from '../output/fhir.js';

export type DestinationKind = 'dicom' | 'stow' | 'webhook' | 'hl7' | 'fhir';

export function destinationKind(key: string): DestinationKind {
  return key.startsWith('stow:') ? 'stow' : key.startsWith('webhook:') ? 'webhook' : key.startsWith('hl7:') ? 'hl7' : key.startsWith('fhir:') ? 'fhir' : 'dicom';
}

const iso = (t: number | null) => (t ? new Date(t).toISOString() : null);

export function destinationStates(config: Config, store: Pick<Store, 'outbox'>) {
  const configured = [...config.output.destinations.map(destinationKey), ...config.output.stow.map(stowKey), ...config.output.webhooks.map(webhookKey), ...config.output.hl7.map(hl7Key), ...config.output.fhir.map(fhirKey)];
  const counts = new Map(store.outbox.byDestination().map((c) => [c.destination, c]));
  const keys = [...new Set([...configured, ...counts.keys()])];
  return keys.map((key) => {
    const c = counts.get(key);
    const state = !configured.includes(key) ? 'unconfigured' : c?.deadLetter ? 'dead-letters' : c?.pending ? (c.lastError ? 'retrying' : 'sending') : 'ok';
    return {
      destination: key,
      kind: destinationKind(key),
      configured: configured.includes(key),
      state,
      pending: c?.pending ?? 0,
      sent: c?.sent ?? 0,
      deadLetter: c?.deadLetter ?? 0,
      lastSentAt: iso(c?.lastSentAt ?? null),
      nextAttemptAt: iso(c?.nextAttemptAt ?? null),
      lastError: c?.lastError ?? null,
      lastErrorAt: iso(c?.lastErrorAt ?? null),
    };
  });
}
