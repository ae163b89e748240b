/**
 * The tests StrykerJS runs against each mutant (stryker.config.mjs): the unit tests, which use mocks and no
 * servers. Left out: test/integration (local servers, a packed tarball), the infra tests (CDK synthesis of
 * the built bundle), and the reader's own suites (kernel, scanner, the reader's property test: half a
 * minute together, about the trail reader, which is not mutated, and they reach the core only through
 * the pipeline, where the core's own tests fail first).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/infra.*.test.ts', 'test/unit/kernel.test.ts', 'test/unit/scanner.test.ts', 'test/unit/reader.property.test.ts'],
    // A mutant that makes a promise never settle must fail the test here, well before Stryker's own
    // timeout (stryker.config.mjs), which would restart the runner (seconds) and, while the restarted
    // runner warms up, time out the next mutants as well. The slowest unit test takes about 7 s.
    testTimeout: 15_000,
    hookTimeout: 15_000,
  },
});
