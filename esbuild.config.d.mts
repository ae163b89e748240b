/** Types for esbuild.config.mjs, whose options bench/cold.ts reuses. */
import type { BuildOptions } from 'esbuild';
export declare const common: BuildOptions;
