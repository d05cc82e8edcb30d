export default {
  displayName: 'baton-plugin',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // The workspace test generates a service in a scratch copy, builds it and boots the system.
  testTimeout: 300_000,
};
