/**
 * Minimal types for dynalite 4 (its JSDoc types are not published as .d.ts): only what servers.ts uses.
 */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  namespace dynalite {
    interface Options {
      path?: string;
      createTableMs?: number;
      deleteTableMs?: number;
      updateTableMs?: number;
      maxItemSizeKb?: number;
      verbose?: boolean;
      debug?: boolean;
    }
  }

  /** A plain http.Server whose close() also closes the in-memory LevelDB store. */
  function dynalite(options?: dynalite.Options): Server;

  export = dynalite;
}
