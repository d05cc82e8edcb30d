export default {
  displayName: 'bench',
  preset: '../../jest.preset.js',
  moduleFileExtensions: ['cjs', 'js', 'json', 'ts'],
  testMatch: ['<rootDir>/**/*.spec.cjs'],
};
