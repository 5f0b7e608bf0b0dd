// The case lifecycle's actions as the workbench offers them: a mirror of urbanbrain/domains/cases/lifecycle.py
// (source states, the permission each needs, what it asks for). The server checks everything again; this
// only decides which buttons to show, so a handler is not offered the centre's steps and vice versa.
import type { CaseItem, HistoryItem } from './types'

export type Need = 'none' | 'optional' | 'required'

export interface ActionSpec {
  name: string
  sources: string[]
  permission: string
  note: Need
  department?: Need
  category?: Need
  hours?: boolean
  target?: boolean
  tone: 'primary' | 'danger' | 'plain'
}

const WORKABLE = ['dispatched', 'accepted', 'in_progress']
const OPEN = ['reported', 'registered', 'dispatched', 'accepted', 'in_progress', 'resolved', 'verified', 'returned', 'suspended']

/** In the order the buttons are shown: the main path first. */
export const ACTIONS: ActionSpec[] = [
  { name: 'register', sources: ['reported'], permission: 'cases.cases.manage', note: 'optional', category: 'required', tone: 'primary' },
  { name: 'dispatch', sources: ['registered', 'returned'], permission: 'cases.cases.manage', note: 'optional', department: 'required', category: 'optional', tone: 'primary' },
  { name: 'accept', sources: ['dispatched'], permission: 'cases.cases.handle', note: 'optional', tone: 'primary' },
  { name: 'start', sources: ['accepted'], permission: 'cases.cases.handle', note: 'optional', tone: 'primary' },
  { name: 'resolve', sources: ['accepted', 'in_progress'], permission: 'cases.cases.handle', note: 'required', tone: 'primary' },
  { name: 'verify_pass', sources: ['resolved'], permission: 'cases.cases.verify', note: 'optional', tone: 'primary' },
  { name: 'verify_fail', sources: ['resolved'], permission: 'cases.cases.verify', note: 'required', tone: 'danger' },
  { name: 'close', sources: ['verified'], permission: 'cases.cases.manage', note: 'optional', tone: 'primary' },
  { name: 'resume', sources: ['suspended'], permission: 'cases.cases.handle', note: 'optional', tone: 'primary' },
  { name: 'answer', sources: ['registered', 'returned'], permission: 'cases.cases.manage', note: 'required', department: 'required', tone: 'plain' },
  { name: 'return', sources: ['dispatched', 'accepted'], permission: 'cases.cases.handle', note: 'required', tone: 'plain' },
  { name: 'request_extension', sources: ['accepted', 'in_progress'], permission: 'cases.cases.handle', note: 'required', hours: true, tone: 'plain' },
  { name: 'request_suspend', sources: ['accepted', 'in_progress'], permission: 'cases.cases.handle', note: 'required', tone: 'plain' },
  { name: 'approve_extension', sources: ['accepted', 'in_progress'], permission: 'cases.cases.manage', note: 'optional', hours: true, tone: 'primary' },
  { name: 'approve_suspend', sources: ['accepted', 'in_progress'], permission: 'cases.cases.manage', note: 'optional', tone: 'primary' },
  { name: 'reject_request', sources: ['accepted', 'in_progress'], permission: 'cases.cases.manage', note: 'required', tone: 'plain' },
  { name: 'reassign', sources: [...WORKABLE, 'returned'], permission: 'cases.cases.manage', note: 'optional', department: 'required', category: 'optional', tone: 'plain' },
  { name: 'escalate', sources: OPEN.filter((s) => s !== 'reported'), permission: 'cases.cases.read', note: 'required', tone: 'plain' },
  { name: 'reopen', sources: ['closed'], permission: 'cases.cases.manage', note: 'required', department: 'optional', tone: 'plain' },
  { name: 'merge', sources: OPEN, permission: 'cases.cases.manage', note: 'optional', target: true, tone: 'plain' },
  { name: 'cancel', sources: ['reported', 'registered', 'returned'], permission: 'cases.cases.manage', note: 'required', tone: 'danger' },
]

/** Steps between the centre and departments: their notes stay off the reporter's view. */
export const INTERNAL = new Set([
  'escalate', 'request_suspend', 'approve_suspend', 'request_extension', 'approve_extension', 'reject_request', 'return', 'reassign',
  'reclassify',
])

/**
 * The classes of a "reclassify" step (written beside the dispatch or reassignment that changed the case's
 * class): its note is "E0101 → C0101", the codes from and to. Null for any other step.
 */
export function reclassified(h: Pick<HistoryItem, 'transition' | 'note'>): { from: string; to: string } | null {
  if (h.transition !== 'reclassify') return null
  const m = /^(\S+) → (\S+)$/.exec(h.note ?? '')
  return m ? { from: m[1], to: m[2] } : null
}

export type CaseLike = Pick<CaseItem, 'state' | 'pending_request' | 'verification_passed' | 'request_kind'>

/**
 * The actions a user may take on a case now: its state allows them (the server's allowed_transitions when
 * given), the user holds the permission, and the small rules that can be seen from here hold (a pending
 * request to approve, none pending to ask again, a verification pass before closing).
 */
export function availableActions(c: CaseLike, can: (permission: string) => boolean, serverAllowed?: string[]): ActionSpec[] {
  const pending = c.pending_request?.kind ?? null
  return ACTIONS.filter((a) => {
    if (!a.sources.includes(c.state)) return false
    if (serverAllowed && !serverAllowed.includes(a.name)) return false
    if (!can(a.permission)) return false
    switch (a.name) {
      case 'approve_extension':
        return pending === 'extend'
      case 'approve_suspend':
        return pending === 'suspend'
      case 'reject_request':
        return pending !== null
      case 'request_extension':
      case 'request_suspend':
      case 'resolve':
        return pending === null
      case 'close':
        return c.verification_passed === true
      case 'answer':
        return c.request_kind === 'consultation'
      default:
        return true
    }
  })
}

/** The body an action is sent with: only what it uses, and the version read (a stale form is refused). */
export function actionBody(
  spec: ActionSpec,
  version: number,
  input: { note?: string; department?: string; category?: string; hours?: number | null; target?: string },
): Record<string, unknown> {
  const body: Record<string, unknown> = { version }
  const note = input.note?.trim()
  if (note && spec.note !== 'none') body.note = note
  if (spec.department && input.department) body.department_code = input.department
  if (spec.category && input.category) body.category_code = input.category
  if (spec.hours && input.hours) body.hours = input.hours
  if (spec.target && input.target?.trim()) body.target_number = input.target.trim()
  return body
}

/**
 * The department a class goes to for a case: the taxonomy names a department's code, or "street_office" /
 * "community_station", the office of the case's own place (as the platform's routing resolves them).
 */
export function resolveDepartment(
  department: string,
  place: Pick<CaseItem, 'street_code' | 'community_code'>,
): string | null {
  if (department === 'street_office' || department === '@street_office') return place.street_code ? `street-${place.street_code}` : null
  if (department === 'community_station' || department === '@community_station')
    return place.community_code ? `station-${place.community_code}` : null
  return department
}
