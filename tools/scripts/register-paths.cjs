// Resolves the @baton/* aliases to the compiled libraries in dist/ at run time.
const path = require('node:path');
const { register } = require('tsconfig-paths');

register({
  baseUrl: path.resolve(__dirname, '../../dist'),
  paths: { '@baton/*': ['libs/*/src/index.js'] },
});
