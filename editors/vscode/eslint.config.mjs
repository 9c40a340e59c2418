// ESLint (flat config) for the extension: typescript-eslint's type-checked
// recommended rules over src/, ESLint's recommended rules over the build
// scripts. Run by scripts/lint.sh (make lint-editors, part of make test).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Generated, installed or bundled; the test suites have their own owners and runners.
  { ignores: ['dist/', 'out/', '.cache/', 'node_modules/', 'test/'] },
  {
    files: ['src/**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['*.mjs'],
    extends: [eslint.configs.recommended],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
