import { describe, expect, it } from 'vitest'
import { slaTone, stateTone } from '../src/work/badges'
import { actorOf, currentDeadline, localTime, percent, slaState, span } from '../src/work/format'

const H = 3_600_000
const base = {
  state: 'in_progress',
  overdue: false,
  dispatched_at: '2026-12-01T00:00:00Z',
  accept_due_at: '2026-12-01T01:00:00Z',
  resolve_due_at: '2026-12-11T00:00:00Z',
}

describe('district local time', () => {
  it('shows a UTC time in Futian time (UTC+8), whatever the browser zone', () => {
    expect(localTime('2026-12-06T23:10:00Z', 8)).toBe('2026-12-07 07:10')
  })
  it('reads a time without an offset as UTC', () => {
    expect(localTime('2026-12-06T23:10:00', 8)).toBe('2026-12-07 07:10')
  })
  it('leaves no time empty', () => {
    expect(localTime(null)).toBe('')
    expect(localTime('not a time')).toBe('')
  })
  it('can show the time alone', () => {
    expect(localTime('2026-12-06T16:05:00Z', 8, false)).toBe('00:05')
  })
})

describe('SLA state', () => {
  const now = Date.parse('2026-12-05T00:00:00Z')
  it('is ok early in the time to resolve', () => {
    expect(slaState(base, now)).toBe('ok')
  })
  it('warns past 80% of the way from dispatch to the deadline', () => {
    expect(slaState(base, Date.parse('2026-12-09T01:00:00Z'))).toBe('warning')
  })
  it('uses the warning time when the platform sends it', () => {
    expect(slaState({ ...base, resolve_warn_at: '2026-12-04T00:00:00Z' }, now)).toBe('warning')
  })
  it('is breached when the platform says overdue or the deadline passed', () => {
    expect(slaState({ ...base, overdue: true }, now)).toBe('breached')
    expect(slaState(base, Date.parse('2026-12-11T00:00:01Z'))).toBe('breached')
  })
  it('is breached for a dispatched case not accepted in time', () => {
    expect(slaState({ ...base, state: 'dispatched' }, Date.parse('2026-12-01T02:00:00Z'))).toBe('breached')
  })
  it('prefers the server judgement when given', () => {
    expect(slaState({ ...base, sla: 'warning' }, now)).toBe('warning')
  })
  it('has no clock outside the working states', () => {
    for (const state of ['reported', 'registered', 'resolved', 'closed', 'suspended']) {
      expect(slaState({ ...base, state, overdue: true }, now)).toBe('none')
    }
  })
  it('maps each SLA state to a colour, red for breached', () => {
    expect(slaTone('breached')).toBe('red')
    expect(slaTone('warning')).toBe('amber')
    expect(slaTone('ok')).toBe('green')
    expect(slaTone('none')).toBe('grey')
  })
})

describe('deadline shown and spans', () => {
  it('shows the time to accept while dispatched, then the time to resolve', () => {
    expect(currentDeadline({ ...base, state: 'dispatched' })).toBe(base.accept_due_at)
    expect(currentDeadline(base)).toBe(base.resolve_due_at)
    expect(currentDeadline({ ...base, state: 'closed' })).toBeNull()
  })
  it('turns minutes into a readable span', () => {
    expect(span(45)).toEqual({ n: 45, unit: 'min' })
    expect(span(-150)).toEqual({ n: 3, unit: 'h' })
    expect(span((3 * 24 * H) / 60_000)).toEqual({ n: 3, unit: 'd' })
  })
  it('shows a tiny confidence as under 1%', () => {
    expect(percent(0.0036)).toBe('<1%')
    expect(percent(0.6019)).toBe('60%')
    expect(percent(null)).toBe('')
  })
  it('reads who did a step', () => {
    expect(actorOf('user:handler')).toEqual({ kind: 'user', name: 'handler' })
    expect(actorOf('system')).toEqual({ kind: 'system', name: '' })
  })
  it('colours states by where they are in the lifecycle', () => {
    expect(stateTone('dispatched')).toBe('blue')
    expect(stateTone('verified')).toBe('green')
    expect(stateTone('returned')).toBe('amber')
    expect(stateTone('something-new')).toBe('grey')
  })
})
