// The figures of the KPI panels: read from decision support's KPIs (/api/v1/insight/kpis: today's and the last
// 30 days' on-time figures, the department ranking, hazard rectification, counted as the cases and fire-safety
// statistics count them) and, for what it does not give or for a user who may not read it, from the platform's
// statistics endpoints; each on its own, so a panel the user may not see, or one that fails, leaves the others
// standing. Shaped by small pure helpers.
import { get, qs } from '../lib/api'
import { auth } from '../lib/auth'
import { day, midnightLocalIso } from './time'

export interface StatCounts {
  dispatched: number
  resolved: number
  on_time: number
  closed: number
  breached: number
}
export interface StatGroup extends StatCounts {
  key: string | null
  on_time_rate: number | null
}
export interface CaseStatistics {
  groups: StatGroup[]
  totals: StatCounts
  on_time_rate: number | null
  verification: { passed: number; failed: number; pass_rate: number | null }
}
export interface AlarmCounts {
  open_by_level: Record<string, number>
  open_by_type: Record<string, number>
  raised_total: number
}
export interface FireStatistics {
  hazards: { found: number; open: number; overdue: number; closed: number; on_time_rate: number | null }
}
export interface RegistrySummary {
  areas: Record<string, number>
  buildings: number
  residents: number
  facilities: Record<string, number>
}

/** The part of /api/v1/insight/kpis the panels read. */
export interface InsightKpis {
  as_of: string // the platform's now
  on_time: StatCounts & { on_time_rate: number | null }
  departments: (StatCounts & { code: string | null; on_time_rate: number | null })[]
  hazards: FireStatistics['hazards']
}

export interface KpiData {
  today: CaseStatistics | null
  month: CaseStatistics | null
  byCategory: CaseStatistics | null
  alarms: AlarmCounts | null
  fire: FireStatistics | null
  registry: RegistrySummary | null
  at: number
}

async function maybe<T>(allowed: boolean, load: () => Promise<T>): Promise<T | null> {
  if (!allowed) return null
  try {
    return await load()
  } catch {
    return null // the panel shows "—"; the next refresh tries again
  }
}

const DAY_MS = 86_400_000
const NO_VERIFICATION = { passed: 0, failed: 0, pass_rate: null }

/** Decision support's figures in the statistics' shape the panels draw: the totals, and the ranked
 *  departments as groups; the verification pass rate (which it does not count) from the cases' statistics. */
export function fromInsight(k: InsightKpis, verification: CaseStatistics['verification'] | null = null): CaseStatistics {
  const { on_time_rate, ...totals } = k.on_time
  return {
    totals,
    on_time_rate,
    groups: k.departments.map(({ code, ...d }) => ({ ...d, key: code })),
    verification: verification ?? NO_VERIFICATION,
  }
}

/** The insight periods of the panels, in the district's local days: today, and the 30 days ending today. */
export function insightPeriods(now: number, offsetHours: number): { today: string; monthFrom: string } {
  return { today: day(now, offsetHours), monthFrom: day(now - 29 * DAY_MS, offsetHours) }
}

/** Decision support's figures of today and of the 30 days ending today. The days are the platform's: a screen
 *  that does not know the platform's clock yet (a demo runs it behind the wall's) learns it from the answer. */
async function insightFigures(now: number, offsetHours: number): Promise<{ today: InsightKpis; month: InsightKpis }> {
  const ask = (from: string, to: string) => get<InsightKpis>(`/api/v1/insight/kpis${qs({ from, to })}`)
  let p = insightPeriods(now, offsetHours)
  let today = await ask(p.today, p.today)
  const asOf = Date.parse(today.as_of)
  if (Number.isFinite(asOf) && day(asOf, offsetHours) !== p.today) {
    p = insightPeriods(asOf, offsetHours)
    today = await ask(p.today, p.today)
  }
  return { today, month: await ask(p.monthFrom, p.today) }
}

/** Every panel's figures; `now` is the platform's time (today starts at the district's midnight). */
export async function loadKpis(now: number, offsetHours: number): Promise<KpiData> {
  const cases = auth.can('cases.cases.read')
  const insight = auth.can('insight.read')
  const [figures, verifying, byCategory, alarms, fire, registry, todayS, monthS] = await Promise.all([
    maybe(insight, () => insightFigures(now, offsetHours)),
    maybe(insight && cases, () => get<CaseStatistics>('/api/v1/cases/statistics')), // its verification only
    maybe(cases, () => get<CaseStatistics>('/api/v1/cases/statistics?group_by=category')),
    maybe(auth.can('sensing.alarms.read'), () => get<AlarmCounts>('/api/v1/sensing/statistics')),
    maybe(!insight && auth.can('fire_safety.read'), () => get<FireStatistics>('/api/v1/fire_safety/statistics')),
    maybe(auth.can('registry.read'), () => get<RegistrySummary>('/api/v1/registry/summary')),
    // without decision support: the cases' own statistics
    maybe(!insight && cases, () => get<CaseStatistics>(`/api/v1/cases/statistics${qs({ from: midnightLocalIso(now, offsetHours) })}`)),
    maybe(!insight && cases, () => get<CaseStatistics>('/api/v1/cases/statistics?group_by=department')),
  ])
  const monthI = figures?.month ?? null
  return {
    today: figures ? fromInsight(figures.today) : todayS,
    month: monthI ? fromInsight(monthI, verifying?.verification) : monthS,
    byCategory,
    alarms,
    fire: insight ? (monthI && auth.can('fire_safety.read') ? { hazards: monthI.hazards } : null) : fire,
    registry,
    at: now,
  }
}

/** A rate 0..1 as "87.4" (one decimal), or null for none. */
export function percent(rate: number | null | undefined): string | null {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return null
  return (Math.round(rate * 1000) / 10).toFixed(1)
}

/** Large counts readable from across a room: 35226 → "35,226". */
export function grouped(n: number | null | undefined): string | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null
  return Math.round(n).toLocaleString('en-US')
}

/** The classes with the most cases, most first. */
export function topGroups(groups: readonly StatGroup[], n = 5): StatGroup[] {
  return [...groups].filter((g) => g.key).sort((a, b) => b.dispatched - a.dispatched || String(a.key).localeCompare(String(b.key))).slice(0, n)
}

/** Departments by on-time rate, best first; those that resolved fewer than `min` cases are left out (a rate
 *  of 1 case is not a ranking), ties broken by volume. */
export function departmentRanking(groups: readonly StatGroup[], n = 8, min = 3): StatGroup[] {
  return [...groups]
    .filter((g) => g.key && g.on_time_rate !== null && g.resolved >= min)
    .sort((a, b) => (b.on_time_rate ?? 0) - (a.on_time_rate ?? 0) || b.resolved - a.resolved)
    .slice(0, n)
}

/** Online rate of the devices in service (disabled ones do not count). */
export function onlineRate(counts: Record<string, number>): number | null {
  const inService = (counts.online ?? 0) + (counts.silent ?? 0) + (counts.alarm ?? 0)
  return inService > 0 ? ((counts.online ?? 0) + (counts.alarm ?? 0)) / inService : null
}

export function sum(values: Record<string, number> | null | undefined): number {
  return values ? Object.values(values).reduce((a, b) => a + b, 0) : 0
}
