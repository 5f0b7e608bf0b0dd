// The screens a user may open, as data: each with the permission it needs. The navigation shows only what
// the user's role allows; later work (crowd zones, plans, the data hub) adds its screens to this list.
import { auth } from '../lib/auth'

export interface Screen {
  key: string // shell.nav.<key> names it
  to: string
  area: 'centre' | 'work' | 'citizen'
  anyOf: string[] // permissions; any one of them opens the screen
}

export const screens: Screen[] = [
  { key: 'centre', to: '/', area: 'centre', anyOf: ['sensing.alarms.read', 'cases.cases.manage'] },
  { key: 'triage', to: '/work/triage', area: 'work', anyOf: ['cases.cases.manage'] },
  { key: 'inbox', to: '/work/inbox', area: 'work', anyOf: ['cases.cases.handle'] },
  { key: 'verify', to: '/work/verify', area: 'work', anyOf: ['cases.cases.verify'] },
  { key: 'overdue', to: '/work/overdue', area: 'work', anyOf: ['cases.cases.manage', 'cases.cases.handle'] },
  { key: 'alarms', to: '/work/alarms', area: 'work', anyOf: ['sensing.alarms.handle'] },
  { key: 'inspections', to: '/work/inspections', area: 'work', anyOf: ['fire_safety.inspections.write', 'fire_safety.hazards.reinspect'] },
  { key: 'labels', to: '/work/labels', area: 'work', anyOf: ['registry.facilities.write'] },
  { key: 'tasks', to: '/work/tasks', area: 'work', anyOf: ['linkage.tasks.work'] },
  { key: 'insight', to: '/work/insight', area: 'work', anyOf: ['insight.read'] },
  // The data hub: everyone browses the catalog; departments hold grants; the owners' stewards decide.
  { key: 'catalog', to: '/work/data', area: 'work', anyOf: ['datahub.read'] },
  { key: 'myData', to: '/work/data/mine', area: 'work', anyOf: ['datahub.requests.submit'] },
  { key: 'dataDesk', to: '/work/data/desk', area: 'work', anyOf: ['datahub.requests.decide'] },
]

export function allowed(screen: Screen): boolean {
  return screen.anyOf.some((p) => auth.can(p))
}

export function visibleScreens(): Screen[] {
  return screens.filter(allowed)
}

/** Where a user lands after logging in: the first screen the role may open. */
export function home(): string {
  return visibleScreens()[0]?.to ?? '/m/'
}
