import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The read-only shared folder (reference study, PyRadiomics baseline) lives beside the repository
 * (`../shared`) in development and CI; OSTEOSCREEN_SHARED_DIR overrides it.
 */
export const SHARED_DIR = process.env.OSTEOSCREEN_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
export const RADIOMICS_BASELINE = path.join(SHARED_DIR, 'radiomics-baseline');

if (!existsSync(RADIOMICS_BASELINE)) {
  throw new Error(`shared reference data not found at ${RADIOMICS_BASELINE} (set OSTEOSCREEN_SHARED_DIR)`);
}
