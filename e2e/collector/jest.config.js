// `make collector-check`: the checks that need a built collector (and moto's server). Not part of
// `make test`: the build takes minutes the first time. Same transform as the root configuration.
import { base } from '../../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'collector',
  rootDir: '.',
  testMatch: ['<rootDir>/*.test.ts'],
  testTimeout: 180_000,
};
