import { describe, expect, it } from 'vitest'
import { messages } from '../src/work/messages'

type Tree = { [key: string]: string | Tree }
function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`))).sort()
}

describe('the workbench catalogue', () => {
  it('has the same keys in Chinese and English', () => {
    expect(keys(messages.en)).toEqual(keys(messages['zh-CN']))
  })
  it('names every case state and every action in both languages', () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const tree = messages[lang] as Tree
      expect(Object.keys(tree.states as Tree)).toContain('in_progress')
      expect(Object.keys(tree.transitions as Tree)).toEqual(expect.arrayContaining(['accept', 'resolve', 'verify_pass', 'close']))
    }
  })
})
