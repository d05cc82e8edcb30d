// Shared Jest settings: SWC transpiles TypeScript with decorator metadata (NestJS needs it)
// and the @baton/* aliases resolve to the libraries' sources.
const path = require('node:path');

const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@baton/(auth|contracts|persistence|testing)$': path.join(root, 'libs/$1/src/index.ts'),
  },
};
