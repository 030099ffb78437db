// ESLint for the extension: typescript-eslint's recommended rules plus the type-checked ones (the
// compiler's own view of every value, so `any` leaking from server JSON or a floating promise is
// found), over the sources and both test folders. `media/chat.js` runs in the webview (a
// browser), so it gets the plain JavaScript rules and the few browser globals it uses.
// Run by scripts/test-vscode.sh before the build: a lint error fails the test command.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'before', 'after'] }] },
      ],
    },
  },
  {
    files: ['media/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'script',
      globals: { acquireVsCodeApi: 'readonly', document: 'readonly', window: 'readonly' },
    },
  },
  {
    files: ['*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
