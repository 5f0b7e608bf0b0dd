import { describe, expect, it } from 'vitest'
import { hazardActions, inspectionBody, inspectionProblem } from '../src/work/fire'
import { sheetFileName, sheetPath } from '../src/work/labels'
import { checkPhotos } from '../src/work/photos'
import { suggestedRoutes } from '../src/work/triage'
import { pageCount } from '../src/work/usePaged'

const GRID = ['fire_safety.hazards.rectify', 'fire_safety.hazards.reinspect', 'fire_safety.hazards.escalate', 'fire_safety.inspections.write']
const can = (perms: string[]) => (p: string) => perms.includes(p)

describe('fire-safety hazard steps', () => {
  const h = { state: 'open' as const, severity: 'general' as const, overdue: false, case_number: null }
  it('lets a grid worker report an open hazard fixed', () => {
    expect(hazardActions(h, can(GRID))).toEqual(['rectify'])
  })
  it('re-inspects a rectified hazard', () => {
    expect(hazardActions({ ...h, state: 'rectified' }, can(GRID))).toEqual(['reinspect'])
  })
  it('escalates only a major or overdue hazard, and only once', () => {
    expect(hazardActions({ ...h, overdue: true }, can(GRID))).toContain('escalate')
    expect(hazardActions({ ...h, severity: 'major' }, can(GRID))).toContain('escalate')
    expect(hazardActions({ ...h, overdue: true, case_number: '440304-E0704-000064' }, can(GRID))).not.toContain('escalate')
  })
  it('offers nothing the role may not do', () => {
    expect(hazardActions(h, can(['fire_safety.hazards.reinspect']))).toEqual([])
  })
})

describe('recording an inspection', () => {
  const draft = { target_kind: 'building' as const, target_code: 'B1', note: '', hazards: [] }
  it('refuses a draft without a place', () => {
    expect(inspectionProblem({ ...draft, target_code: ' ' })).toBe('target')
  })
  it('accepts a passed inspection with no hazards', () => {
    expect(inspectionProblem(draft)).toBeNull()
  })
  it('refuses a hazard without a type or a description', () => {
    expect(inspectionProblem({ ...draft, hazards: [{ type_code: '', severity: 'general', description: 'x' }] })).toBe('hazardType')
    expect(inspectionProblem({ ...draft, hazards: [{ type_code: 'other', severity: 'general', description: '  ' }] })).toBe('hazardText')
  })
  it('sends what the platform takes', () => {
    expect(inspectionBody({ ...draft, note: ' ', hazards: [{ type_code: 'other', severity: 'major', description: ' wires ' }] })).toEqual({
      target_kind: 'building',
      target_code: 'B1',
      note: null,
      hazards: [{ type_code: 'other', severity: 'major', description: 'wires' }],
    })
  })
})

describe('progress photos', () => {
  const jpeg = { name: 'a.jpg', size: 1000, type: 'image/jpeg' }
  it('accepts JPEG, PNG and WebP photos', () => {
    expect(checkPhotos([jpeg, { ...jpeg, type: 'image/png' }, { ...jpeg, type: 'image/webp' }])).toBeNull()
  })
  it('refuses another kind of file, a photo over 10 MB, or too many', () => {
    expect(checkPhotos([{ name: 'x.gif', size: 10, type: 'image/gif' }])).toEqual({ reason: 'badType', name: 'x.gif' })
    expect(checkPhotos([{ ...jpeg, size: 11 * 1024 * 1024 }])).toEqual({ reason: 'tooBig', name: 'a.jpg' })
    expect(checkPhotos(Array(7).fill(jpeg))).toEqual({ reason: 'tooMany', max: 6 })
  })
})

describe('triage suggestions', () => {
  const minors = new Map([
    ['E4604', { department: 'community_station' }],
    ['E0403', { department: 'emergency' }],
  ])
  const c = { street_code: '440304004', community_code: '440304004028', classified_as: 'E4604', classification_confidence: 0.23 }
  it('turns the classifier’s best classes into routes with the place’s department', () => {
    const routes = suggestedRoutes(c, { top: [['E4604', 0.16], ['E0403', 0.14], ['E4604', 0.01]] }, minors)
    expect(routes).toEqual([
      { category: 'E4604', department: 'station-440304004028', confidence: 0.16 },
      { category: 'E0403', department: 'emergency', confidence: 0.14 },
    ])
  })
  it('falls back to the case’s own classification', () => {
    expect(suggestedRoutes(c, null, minors)).toEqual([{ category: 'E4604', department: 'station-440304004028', confidence: 0.23 }])
  })
})

describe('labels and paging', () => {
  it('asks for the sheet of an area and a kind', () => {
    expect(sheetPath('440304004028', 'bench')).toBe('/api/v1/registry/facilities/labels.svg?area=440304004028&kind=bench')
    expect(sheetPath('440304004', '')).toBe('/api/v1/registry/facilities/labels.svg?area=440304004')
    expect(sheetFileName('440304004', '')).toBe('labels-440304004-all.svg')
  })
  it('counts pages, one at least', () => {
    expect(pageCount(0, 20)).toBe(1)
    expect(pageCount(41, 20)).toBe(3)
  })
})
