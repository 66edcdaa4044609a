// One jest run over every workspace. Tests are TypeScript ES modules, transpiled by ts-jest
// (type-checking is `tsc -b`'s job, so the transform stays fast). Workspace packages resolve to their
// sources through the "flotilla-source" export condition, so tests never need a build first.
/** @type {import('jest').Config} */
export const base = {
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['flotilla-source', 'node', 'node-addons'] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
};

const workspaces = [
  'platform/model',
  'platform/runtime',
  'platform/dev',
  'platform/deploy',
  'charts-ts',
  'services/contracts',
  'services/inventory',
  'services/orders',
  'services/payments',
  'services/notifications',
  'e2e',
];

export default {
  projects: workspaces.map((dir) => ({
    ...base,
    displayName: dir,
    rootDir: `<rootDir>/${dir}`,
    testMatch: ['<rootDir>/test/**/*.test.ts'],
  })),
  testTimeout: 30_000,
};
