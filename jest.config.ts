import type { Config } from 'jest';

// Every project's own jest.config.ts is a Jest project; `npm test` runs them all.
const config: Config = {
  projects: ['<rootDir>/apps/*/jest.config.ts', '<rootDir>/libs/*/jest.config.ts'],
};

export default config;
