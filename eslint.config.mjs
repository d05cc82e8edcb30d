// Root ESLint flat config for the Baton workspace.
// Every project has its own eslint.config.mjs that re-exports this one, which is what lets
// @nx/eslint/plugin infer a `lint` target per project (`nx run-many -t lint`).
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts', '**/*.tsx', '**/*.cts', '**/*.mts'];
const JS_FILES = ['**/*.js', '**/*.cjs', '**/*.mjs'];
const SPEC_FILES = ['**/*.spec.ts', '**/*.test.ts', '**/*.e2e-spec.ts'];
// The node scripts under tools/, outside every project: `npm run lint:scripts` lints them (`npm run
// lint` runs it after the projects' lint).
const NODE_SCRIPTS = 'tools/{bench,jwt,nats,scripts}/**/*.{cjs,mjs}';

// Architectural boundaries between projects (tags live in each project.json). Specs may also use
// the test harness (`type:testing`); production code may not.
const boundaries = (forSpecs) => {
  const withHarness = (tags) => (forSpecs ? [...tags, 'type:testing'] : tags);
  return [
    'error',
    {
      enforceBuildableLibDependency: true,
      // Project configs re-export the root config via a relative path; that is not a boundary breach.
      allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
      depConstraints: [
        // --- layer (type) constraints ---
        {
          sourceTag: 'type:app',
          onlyDependOnLibsWithTags: withHarness(['type:auth', 'type:contracts', 'type:data']),
        },
        { sourceTag: 'type:auth', onlyDependOnLibsWithTags: withHarness(['type:contracts']) },
        // Empty list = may not depend on any (tagged) project of ours.
        { sourceTag: 'type:data', onlyDependOnLibsWithTags: withHarness([]) },
        { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
        {
          sourceTag: 'type:testing',
          onlyDependOnLibsWithTags: ['type:contracts', 'type:auth', 'type:data'],
        },
        {
          sourceTag: 'type:e2e',
          onlyDependOnLibsWithTags: ['type:testing', 'type:contracts', 'type:auth'],
        },
        // --- scope constraints: shared libs never reach into an app's scope ---
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
        {
          sourceTag: 'scope:gateway',
          onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'],
        },
        { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['scope:auth', 'scope:shared'] },
        {
          sourceTag: 'scope:orders',
          onlyDependOnLibsWithTags: ['scope:orders', 'scope:shared'],
        },
        {
          sourceTag: 'scope:profile',
          onlyDependOnLibsWithTags: ['scope:profile', 'scope:shared'],
        },
      ],
    },
  ];
};

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/.nx/**',
      '**/tmp/**',
      '**/.data/**',
      // CommonJS config files (jest.preset.js, …) are not linted.
      '**/*.js',
    ],
  },

  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],

  // Type-aware linting for all TypeScript sources.
  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Uses the nearest tsconfig.json of each file (root tsconfig.json covers apps/ and libs/).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        // NestJS: classes used as decorated constructor parameters must stay runtime imports.
        // With both flags on, consistent-type-imports leaves files containing decorators alone.
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        {
          prefer: 'type-imports',
          fixStyle: 'separate-type-imports',
          disallowTypeAnnotations: false,
        },
      ],
      eqeqeq: ['error', 'always'],
      // `_`-prefixed names are intentionally unused (e.g. interface-mandated parameters).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  // Jest specs: `expect(mock.method)` is the norm, not a bug.
  {
    files: SPEC_FILES,
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      // Tests read JSON answers loosely; the assertions are what check their shape.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  // ESM config files (eslint.config.mjs, …) and the node scripts under tools/ (the benchmarks, the
  // installer, `npm start`, the JWT and NATS command-line tools): plain JS rules, no type information.
  {
    files: JS_FILES,
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      eqeqeq: ['error', 'always'],
    },
  },
  { files: ['**/*.spec.cjs'], languageOptions: { globals: globals.jest } },

  {
    files: [...TS_FILES, ...JS_FILES],
    // the node scripts under tools/ belong to no project, so no project boundary applies to them
    ignores: [NODE_SCRIPTS],
    rules: { '@nx/enforce-module-boundaries': boundaries(false) },
  },
  {
    files: SPEC_FILES,
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },

  // Turns off every stylistic rule that would fight Prettier, `curly` among them ...
  prettier,
  // ... which, with "all", does not: braces on every block, everywhere.
  { rules: { curly: ['error', 'all'] } },
);
