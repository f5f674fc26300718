import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'tools/**', 'bin/**', 'scripts/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // client-node models (V1Job …) are classes used as plain JSON data everywhere, the library's own docs included.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-misused-spread': 'off',
      // ESLint counts every ?. and ?? as a branch; reading optional Kubernetes fields would otherwise dominate.
      complexity: ['error', 20],
      'max-depth': ['error', 3],
      'max-params': ['error', 4],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read settings from lib/settings (loadSettings) instead.',
        },
      ],
    },
  },
  {
    // The settings module is the one place that reads the environment; tests and tools pass env explicitly.
    files: [
      'lib/settings/**',
      'functions/**/server.ts',
      'functions/**/main.ts',
      'tests/**',
      'bench/**',
      'scripts/**',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['tests/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Fakes implement async interfaces with synchronous in-memory bodies.
      '@typescript-eslint/require-await': 'off',
      'max-params': 'off',
      complexity: 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
