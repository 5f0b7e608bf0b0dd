// Lint: the recommended rules of ESLint, typescript-eslint and eslint-plugin-vue, and no hard-coded
// user-facing text in templates (every string comes from the message catalogues).
import js from '@eslint/js'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/no-bare-strings-in-template': ['error', { allowlist: ['·', '—', '×', '/', ':', '%', '(', ')', '#', '+', '-', '…', '|', '→', '✕', '▶', '⏸', '●'] }],
    },
  },
)
