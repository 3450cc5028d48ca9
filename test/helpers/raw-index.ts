/**
 * A second connection to a store's SQLite index, for tests that set rows up or read them in ways the store has
 * no method for (ageing rows, forcing states, page counts). The service's code goes through the store's methods.
 */
import path from 'node:path';
import { openDb, INDEX_FILE, type DB } from '../../src/store/db.js';
import type { Store } from '../../src/store/index.js';

export function rawIndex(store: Pick<Store, 'dir'>): DB {
  return openDb(path.join(store.dir, INDEX_FILE));
}
