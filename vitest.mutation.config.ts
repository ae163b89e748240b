/**
 * The tests StrykerJS runs against each mutant (stryker.config.mjs): the unit tests, which use mocks and no
 * servers, so one mutant's run takes milliseconds. Left out: test/integration (local servers, a packed
 * tarball) and the infra tests (CDK synthesis of the built bundle, seconds each, and none of it reaches
 * the mutated modules).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/infra.*.test.ts'],
  },
});
