import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // The harness hands tests loosely typed JSON, like the specs that use it.
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
];
