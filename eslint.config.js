// One lint for the whole repository: type-aware typescript-eslint (the rules that bite in uWS and
// worker code: floating and misused promises) and eslint-plugin-vue for the components.
import js from '@eslint/js'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'models/**/*.py', '**/*.mjs', 'client/public/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.ts', '**/*.vue'],
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        parser: tseslint.parser,
        extraFileExtensions: ['.vue'],
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `xs[i]!` states intent for noUncheckedIndexedAccess, which the hot decode loops may turn on
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // an async method that implements a Promise interface (embedded queue, SQLite) turns a throw
      // into a rejection, which is what its callers handle; it needs no await to be right
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.vue'],
    rules: {
      // layout is not lint: there is no formatter here to keep these, and they say nothing of behaviour
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      // vue-i18n's composer functions (`const { t } = useI18n()`) are closures, not methods
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      // vitest types its asymmetric matchers (`expect.any(String)`) as any
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
)
