// Lint rules: typescript-eslint's recommended set plus the type-aware rules that catch
// lost promises, which matter most in an I/O-heavy server.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  { files: ['**/*.js'], languageOptions: { globals: globals.node } },
  // The web UI: plain ES modules run by the browser.
  { files: ['ui/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'module' } },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use a string union instead of enum.' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Only the CLI and configuration layers may read the process environment.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/conf/**', 'src/testing/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/conf.' }, { object: 'process', property: 'argv', message: 'Only src/cli reads argv.' }],
    },
  },
);
