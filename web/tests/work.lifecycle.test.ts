import { describe, expect, it } from 'vitest'
import { actionBody, ACTIONS, availableActions, reclassified, resolveDepartment } from '../src/work/lifecycle'

const HANDLER = ['cases.cases.read', 'cases.cases.handle']
const OPERATOR = ['cases.cases.read', 'cases.cases.manage']
const VERIFIER = ['cases.cases.read', 'cases.cases.verify']
const can = (perms: string[]) => (p: string) => perms.includes(p)
const names = (state: string, perms: string[], extra = {}) =>
  availableActions({ state, pending_request: null, verification_passed: null, request_kind: 'report', ...extra }, can(perms)).map((a) => a.name)

describe('which actions a state and a role allow', () => {
  it('lets a handler accept or return a dispatched case', () => {
    expect(names('dispatched', HANDLER)).toEqual(['accept', 'return', 'escalate'])
  })
  it('lets a handler start, resolve or ask for more time on accepted work', () => {
    expect(names('accepted', HANDLER)).toEqual(['start', 'resolve', 'return', 'request_extension', 'request_suspend', 'escalate'])
  })
  it('does not offer the centre steps to a handler, nor the handler steps to the centre', () => {
    expect(names('registered', HANDLER)).not.toContain('dispatch')
    expect(names('in_progress', OPERATOR)).not.toContain('resolve')
    expect(names('in_progress', OPERATOR)).toContain('reassign')
  })
  it('offers verification to the verifier only', () => {
    expect(names('resolved', VERIFIER)).toEqual(['verify_pass', 'verify_fail', 'escalate'])
    expect(names('resolved', OPERATOR)).not.toContain('verify_pass')
  })
  it('closes only after a verification pass', () => {
    expect(names('verified', OPERATOR)).not.toContain('close')
    expect(names('verified', OPERATOR, { verification_passed: true })).toContain('close')
  })
  it('offers approval only for the request waiting, and no new request while one waits', () => {
    const pending = { pending_request: { kind: 'extend', note: 'x', hours: 24, by: 'u', at: '' } }
    expect(names('in_progress', OPERATOR, pending)).toEqual(expect.arrayContaining(['approve_extension', 'reject_request']))
    expect(names('in_progress', OPERATOR, pending)).not.toContain('approve_suspend')
    expect(names('in_progress', HANDLER, pending)).not.toContain('request_extension')
    expect(names('in_progress', HANDLER, pending)).not.toContain('resolve')
  })
  it('registers a reported case, and answers only consultations', () => {
    expect(names('reported', OPERATOR)).toEqual(['register', 'merge', 'cancel'])
    expect(names('registered', OPERATOR)).not.toContain('answer')
    expect(names('registered', OPERATOR, { request_kind: 'consultation' })).toContain('answer')
  })
  it('follows the server when it says what the state allows', () => {
    const a = availableActions({ state: 'dispatched', pending_request: null, verification_passed: null, request_kind: null }, can(HANDLER), ['accept'])
    expect(a.map((x) => x.name)).toEqual(['accept'])
  })
  it('marks the actions that need a note', () => {
    const needs = ACTIONS.filter((a) => a.note === 'required').map((a) => a.name)
    expect(needs).toEqual(expect.arrayContaining(['resolve', 'return', 'verify_fail', 'request_extension', 'cancel']))
    expect(needs).not.toContain('accept')
  })
})

describe('the body an action is sent with', () => {
  const spec = (name: string) => ACTIONS.find((a) => a.name === name)!
  it('sends the version read and the trimmed note', () => {
    expect(actionBody(spec('resolve'), 7, { note: '  fixed  ', department: 'water' })).toEqual({ version: 7, note: 'fixed' })
  })
  it('sends the class for register, and the department with the class for dispatch and reassign', () => {
    expect(actionBody(spec('register'), 1, { category: 'C0101' })).toEqual({ version: 1, category_code: 'C0101' })
    expect(actionBody(spec('dispatch'), 2, { department: 'water', category: 'C0101' })).toEqual({ version: 2, department_code: 'water', category_code: 'C0101' })
    expect(actionBody(spec('reassign'), 3, { department: 'water', category: 'C0101' })).toEqual({ version: 3, department_code: 'water', category_code: 'C0101' })
    expect(actionBody(spec('accept'), 4, { department: 'water', category: 'C0101' })).toEqual({ version: 4 })
  })
  it('leaves an empty note out', () => {
    expect(actionBody(spec('accept'), 3, { note: '   ' })).toEqual({ version: 3 })
  })
})

describe('the department a class goes to at a place', () => {
  const place = { street_code: '440304004', community_code: '440304004028' }
  it('keeps a named department', () => {
    expect(resolveDepartment('water', place)).toBe('water')
  })
  it('sends street-office and community-station classes to the place’s own office', () => {
    expect(resolveDepartment('street_office', place)).toBe('street-440304004')
    expect(resolveDepartment('community_station', place)).toBe('station-440304004028')
    expect(resolveDepartment('community_station', { street_code: null, community_code: null })).toBeNull()
  })
})

describe('a class change in the timeline', () => {
  it('reads the classes from and to of a reclassify step', () => {
    expect(reclassified({ transition: 'reclassify', note: 'E0101 → C0101' })).toEqual({ from: 'E0101', to: 'C0101' })
  })
  it('reads nothing from another step, whatever its note says', () => {
    expect(reclassified({ transition: 'dispatch', note: 'E0101 → C0101' })).toBeNull()
    expect(reclassified({ transition: 'reclassify', note: null })).toBeNull()
  })
})
