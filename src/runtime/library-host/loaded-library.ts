/** A library together with the factory of its clients: what the host keeps per loaded library. */
import type { LibraryClients } from './clients.js';
import type { Library } from './library.js';

export interface LoadedLibraryEntry {
  readonly library: Library;
  readonly clients: LibraryClients;
}
