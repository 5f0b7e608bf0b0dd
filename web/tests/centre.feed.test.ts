// The live feed and the KPI figures as the duty operator reads them: an alarm line names its type, level and
// building, a case line its number, the list keeps the newest 100, and rates read as percentages.
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { messages } from '../src/centre/messages'
import { alarmPlace, entryOfAlarm, entryText, eventLabel, FEED_MAX, pushEntry, seedEntries, toEntry, type FeedEntry, type Namer } from '../src/centre/feedText'
import { departmentRanking, grouped, onlineRate, percent, topGroups, type StatGroup } from '../src/centre/kpi'
import { clock, day, midnightLocalIso, shortDateTime, skewOf } from '../src/centre/time'

function namer(locale: 'zh-CN' | 'en'): Namer {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': { centre: messages['zh-CN'] }, en: { centre: messages.en } } })
  const t = i18n.global.t as (k: string, p?: Record<string, unknown>) => string
  return {
    t: (k, p) => (p ? t(k, p) : t(k)),
    alarmType: (code) => (i18n.global.te(`centre.alarmType.${code}`) ? t(`centre.alarmType.${code}`) : code),
    category: (code) => (code === 'C0201' ? (locale === 'en' ? 'Street light out' : '路灯不亮') : code),
    department: (code) => (code === 'urban_management' ? '城管局' : code),
    building: (code) => (code === '440304004028-V01-B012' ? '水围村12栋' : null),
  }
}

const raised = {
  event: 'alarm',
  id: '41',
  data: {
    event: 'raised',
    alarm_id: 41,
    alarm_type: 'smoke',
    level: 'yellow',
    status: 'active',
    origin: 'SMK-440304004028-V01-B012-01',
    building_code: '440304004028-V01-B012',
    lon: 114.0665,
    lat: 22.5262,
    raised_at: '2026-12-07T01:02:03Z',
    case_number: null,
  },
}

describe('feed items', () => {
  it('an alarm reads "烟感告警 · 黄色 · 水围村12栋" with its level and raise time', () => {
    const e = toEntry(raised, 0, 1)!
    expect(e.kind).toBe('alarm')
    expect(e.level).toBe('yellow')
    expect(e.at).toBe(Date.parse('2026-12-07T01:02:03Z'))
    expect(entryText(e, namer('zh-CN'))).toBe('烟感告警 · 黄色 · 水围村12栋')
    expect(eventLabel(e, namer('zh-CN').t)).toBe('新告警')
    expect(entryText(e, namer('en'))).toBe('Smoke alarm · Yellow · 水围村12栋')
  })
  it('an alarm from an unknown building shows where it came from', () => {
    const e = toEntry({ ...raised, data: { ...raised.data, building_code: null } }, 0, 2)!
    expect(entryText(e, namer('zh-CN'))).toContain('SMK-440304004028-V01-B012-01')
    expect(alarmPlace(e.alarm!, { building: () => null })).toBe('SMK-440304004028-V01-B012-01')
  })
  it('a case step includes the case number, class and department', () => {
    const e = toEntry({ event: 'case', id: '7', data: { event: 'dispatched', number: '440304-C0201-000123', category_code: 'C0201', department_code: 'urban_management', lon: 114, lat: 22.5, state: 'dispatched' } }, 1000, 3)!
    expect(e.kind).toBe('case')
    expect(entryText(e, namer('zh-CN'))).toBe('440304-C0201-000123 · 路灯不亮 · 城管局')
    expect(eventLabel(e, namer('zh-CN').t)).toBe('派遣')
  })
  it('an SLA breach is red and names the case', () => {
    const e = toEntry({ event: 'sla', id: '8', data: { event: 'sla_breached', number: '440304-C0201-000124', category_code: 'C0201' } }, 1000, 4)!
    expect(e.level).toBe('red')
    expect(entryText(e, namer('zh-CN'))).toContain('440304-C0201-000124')
    expect(eventLabel(e, namer('en').t)).toBe('Overdue')
  })
  it('ignores what the centre does not list', () => {
    expect(toEntry({ event: 'case', id: '9', data: { event: 'noted', number: 'x' } }, 0, 5)).toBeNull()
    expect(toEntry({ event: 'alarm', id: '9', data: 'not json' }, 0, 6)).toBeNull()
    expect(toEntry({ event: 'other', id: '9', data: { event: 'raised' } }, 0, 7)).toBeNull()
  })
  it('keeps the newest first and at most 100', () => {
    let list: FeedEntry[] = []
    for (let i = 0; i < 130; i++) list = pushEntry(list, { ...entryOfAlarm({ ...raised.data, id: i, raised_at: new Date(i * 1000).toISOString() } as never), key: `k${i}` })
    expect(list).toHaveLength(FEED_MAX)
    expect(list[0].at).toBeGreaterThan(list[1].at)
    expect(list[0].key).toBe('k129')
  })
})

describe('the first lines of the feed', () => {
  const a = (id: number, raised: string, cleared: string | null = null) => ({ ...raised_(id), raised_at: raised, cleared_at: cleared })
  const raised_ = (id: number) => ({ id, alarm_type: 'smoke', level: 'yellow', status: 'active', origin: `SMK-${id}`, building_code: null, lon: 114, lat: 22.5, raised_at: '' })
  it('lists the day\'s raised and cleared alarms newest first, once each, after what came live', () => {
    const live = toEntry({ ...raised, data: { ...raised.data, alarm_id: 3, raised_at: '2026-12-07T05:00:00Z' } }, 0, 9)!
    const out = seedEntries([live], [a(3, '2026-12-07T05:00:00Z')], [a(1, '2026-12-07T01:00:00Z', '2026-12-07T02:00:00Z'), a(3, '2026-12-07T05:00:00Z')])
    expect(out.map((e) => `${e.event}:${e.alarm!.id}`)).toEqual(['raised:3', 'cleared:1', 'raised:1'])
    expect(out[0]).toBe(live)
  })
})

describe('catalogue', () => {
  const keys = (o: object, p = ''): string[] => Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]))
  it('has the same keys in Chinese and English', () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
  })
})

describe('KPI figures', () => {
  const g = (key: string, dispatched: number, resolved: number, rate: number | null): StatGroup => ({ key, dispatched, resolved, on_time: 0, closed: 0, breached: 0, on_time_rate: rate })
  it('reads rates as percentages with one decimal and large counts with separators', () => {
    expect(percent(0.8736)).toBe('87.4')
    expect(percent(1)).toBe('100.0')
    expect(percent(null)).toBeNull()
    expect(grouped(35226)).toBe('35,226')
    expect(grouped(undefined)).toBeNull()
  })
  it('ranks the top classes by volume and departments by on-time rate, leaving out tiny samples', () => {
    const groups = [g('a', 5, 5, 0.9), g('b', 50, 40, 0.8), g('c', 20, 2, 1), g('d', 30, 30, 0.95), g('e', 1, 1, null)]
    expect(topGroups(groups, 2).map((x) => x.key)).toEqual(['b', 'd'])
    expect(departmentRanking(groups).map((x) => x.key)).toEqual(['d', 'a', 'b'])
  })
  it('counts devices in alarm as online, disabled ones not at all', () => {
    expect(onlineRate({ online: 8, silent: 1, alarm: 1, disabled: 10 })).toBeCloseTo(0.9)
    expect(onlineRate({ disabled: 3 })).toBeNull()
  })
})

describe('district time', () => {
  const ms = Date.parse('2026-12-06T17:30:05Z') // 01:30:05 on the 7th in Shenzhen
  it('shows the clock and date of the district whatever the browser zone', () => {
    expect(clock(ms, 8)).toBe('01:30:05')
    expect(clock(ms, 8, false)).toBe('01:30')
    expect(day(ms, 8)).toBe('2026-12-07')
    expect(shortDateTime(ms, 8)).toBe('12-07 01:30')
    expect(midnightLocalIso(ms, 8)).toBe('2026-12-07T00:00:00')
  })
  it('measures how far the platform clock is ahead', () => {
    expect(skewOf('2026-12-07T00:00:10Z', Date.parse('2026-12-07T00:00:00Z'))).toBe(10_000)
    expect(skewOf(null, 5)).toBe(0)
  })
})
