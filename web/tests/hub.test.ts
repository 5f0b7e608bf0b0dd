import { describe, expect, it } from 'vitest'
import { actorName, approvalBody, attachmentName, cellText, conditionsBody, conditionText, expiryIso, filterTexts, nextSort, rowsQuery, standing } from '../src/hub/hub'
import { messages } from '../src/hub/messages'
import { messages as shell } from '../src/shell/messages'

type Tree = { [key: string]: string | Tree }
function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`))).sort()
}
function strings(tree: Tree): string[] {
  return Object.values(tree).flatMap((v) => (typeof v === 'string' ? [v] : strings(v)))
}

describe('the data hub catalogue', () => {
  it('has the same keys in Chinese and English', () => {
    expect(keys(messages.en as Tree)).toEqual(keys(messages['zh-CN'] as Tree))
  })
  it('writes no bare "|" (vue-i18n would read plural forms)', () => {
    for (const lang of ['zh-CN', 'en'] as const) for (const s of strings(messages[lang] as Tree)) expect(s.replace("{'|'}", '')).not.toContain('|')
  })
  it('names the hub screens in the navigation, in both languages', () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const nav = (shell[lang] as Tree).nav as Tree
      for (const key of ['catalog', 'myData', 'dataDesk']) expect(nav[key]).toBeTruthy()
    }
  })
})

describe('row conditions', () => {
  it('leaves out rows without a field or a value and splits "in" values', () => {
    const body = conditionsBody([
      { field: 'street_code', op: 'eq', value: ' 440304004 ' },
      { field: 'age', op: 'gte', value: '' },
      { field: '', op: 'eq', value: 'x' },
      { field: 'kind', op: 'in', value: 'a | b||c' },
    ])
    expect(body).toEqual([
      { field: 'street_code', op: 'eq', value: '440304004' },
      { field: 'kind', op: 'in', value: ['a', 'b', 'c'] },
    ])
  })
  it('writes the preview filters as field:op:value, keeping colons of times', () => {
    expect(filterTexts([
      { field: 'age', op: 'gte', value: '80' },
      { field: 'at', op: 'lt', value: '2018-07-09T08:00:00' },
      { field: 'kind', op: 'in', value: 'a|b' },
    ])).toEqual(['age:gte:80', 'at:lt:2018-07-09T08:00:00', 'kind:in:a|b'])
  })
  it('reads as a sentence', () => {
    expect(conditionText({ field: 'age', op: 'gte', value: 80 })).toBe('age ≥ 80')
    expect(conditionText({ field: 'kind', op: 'in', value: ['a', 'b'] })).toBe('kind ∈ a, b')
  })
})

describe('a page of rows', () => {
  it('repeats filter and sort parameters as the API reads lists', () => {
    const q = rowsQuery({ grant: 7, page: 2, pageSize: 20, sort: '-age', filters: ['age:gte:80', 'name:eq:张**'] })
    const p = new URLSearchParams(q.slice(1))
    expect([p.get('grant'), p.get('page'), p.get('page_size'), p.get('sort')]).toEqual(['7', '2', '20', '-age'])
    expect(p.getAll('filter')).toEqual(['age:gte:80', 'name:eq:张**'])
  })
  it('sorts up, down, then not at all on clicks of one header', () => {
    expect(nextSort(null, 'age')).toBe('age')
    expect(nextSort('age', 'age')).toBe('-age')
    expect(nextSort('-age', 'age')).toBeNull()
    expect(nextSort('-age', 'name')).toBe('name')
  })
  it('shows empty cells for null and JSON for objects', () => {
    expect([cellText(null), cellText(undefined), cellText(0), cellText(false), cellText({ a: 1 })]).toEqual(['', '', '0', 'false', '{"a":1}'])
  })
})

describe('a decision', () => {
  it('ends a grant at the district midnight after the date picked', () => {
    expect(expiryIso('2018-12-31', 8)).toBe('2018-12-31T16:00:00Z')
    expect(expiryIso('', 8)).toBeNull()
    expect(expiryIso('31/12/2018', 8)).toBeNull()
  })
  it('approves the chosen fields in the order asked, in clear only those approved', () => {
    const body = approvalBody(['person_id', 'name', 'id_number', 'phone'], {
      fields: ['phone', 'person_id', 'name'],
      clear: ['name', 'id_number'],
      expires: '2018-12-31',
      rows: [{ field: 'street_code', op: 'eq', value: '440304004' }],
      reason: '  ',
    })
    expect(body).toEqual({
      decision: 'approve',
      fields: ['person_id', 'name', 'phone'],
      clear: ['name'],
      rows: [{ field: 'street_code', op: 'eq', value: '440304004' }],
      expires_at: '2018-12-31T16:00:00Z',
    })
  })
  it('sends no rows, expiry or note that were not given', () => {
    expect(approvalBody(['a'], { fields: ['a'], clear: [], expires: '', rows: [], reason: '' })).toEqual({ decision: 'approve', fields: ['a'], clear: [] })
  })
})

describe('grants and files', () => {
  it('tells a revoked grant from an expired one', () => {
    expect(standing({ active: true, revoked_at: null })).toBe('active')
    expect(standing({ active: false, revoked_at: '2018-07-09T01:00:00Z' })).toBe('revoked')
    expect(standing({ active: false, revoked_at: null })).toBe('expired')
  })
  it('names a person by their user name, other actors as they are', () => {
    expect([actorName('user:civil'), actorName('api_key:7'), actorName(null)]).toEqual(['civil', 'api_key:7', ''])
  })
  it('names a download from its Content-Disposition', () => {
    expect(attachmentName('attachment; filename="elderly-care-grant3.csv"', 'x.csv')).toBe('elderly-care-grant3.csv')
    expect(attachmentName(null, 'x.csv')).toBe('x.csv')
  })
})
