// ESLint's rules for the explorer's JavaScript (web/*.js, the page) and its tests
// (tests/web/*.mjs, Node.js scripts that also hand functions to the page). The format test runs
// it (tests/scripts/check_format.sh), beside Prettier (web/.prettierrc.json) for the layout.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: 'error',
    },
  },
  { files: ['**/*.js'], languageOptions: { globals: globals.browser } },
  { files: ['**/*.mjs'], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
];
