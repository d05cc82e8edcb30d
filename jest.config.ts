import type { Config } from 'jest';

// Every project's own jest.config.ts is a Jest project; `npm test` runs them all.
// testTimeout is a global option: a project's own setting is ignored when run from here.
const config: Config = {
  testTimeout: 120_000,
  projects: [
    '<rootDir>/apps/*/jest.config.ts',
    '<rootDir>/libs/*/jest.config.ts',
    '<rootDir>/tools/*/jest.config.ts',
  ],
};

export default config;
