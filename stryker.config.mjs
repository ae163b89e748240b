// Mutation testing of the core: `npm run test:mutation` (not part of `npm test` or CI). See docs/testing.md.
import { resolve } from 'node:path';

// Stryker runs the tests in a copy of the project under .stryker-tmp/, where `../shared/samples` (real
// CloudTrail records that some unit tests read, skipping when absent) no longer resolves; point the copy
// at this checkout's neighbour. The test runners Stryker starts inherit this environment.
process.env.SES_AUDIT_SAMPLES ??= resolve(import.meta.dirname, '../shared/samples');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true, pool: 'forks' },
  mutate: ['src/ses/**/*.ts', 'src/trail/keys.ts', 'src/store/marshal.ts', 'src/store/writer.ts'],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level tables and regular expressions: about half of all mutants here) would run
  // every test each, hours in all. With ignoreStatic those that tests also cover while running run only
  // those tests; only the ones no test covers are ignored. STRYKER_STATIC=1 runs every test for each.
  ignoreStatic: process.env.STRYKER_STATIC !== '1',
  concurrency: 2,
  // Above vitest's 15 s test timeout in vitest.mutation.config.ts, so a hung test fails there (killed)
  // and only a mutant that loops synchronously reaches this (timeout, runner restarted).
  timeoutMS: 20_000,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
  // Reported, never failing: the score is read, not enforced (break: null).
  thresholds: { high: 90, low: 80, break: null },
  ignorePatterns: ['dist', 'cdk.out', 'coverage', '.local-data', '.bench', '.ci/node', 'reports', '*.cpuprofile'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
