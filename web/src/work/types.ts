// The shapes the platform sends for the workbench (see openapi.json: CasePublic, CaseDetail, AlarmPublic,
// HazardPublic, …). Only the fields the pages use are typed; the rest pass through untouched.
export type Names = Record<string, string>

export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

export interface PendingRequest {
  kind: 'suspend' | 'extend'
  note: string | null
  hours: number | null
  by: string
  at: string
}

export interface CaseItem {
  id: number
  number: string | null
  token: string
  state: string
  state_name: Names
  state_group: string
  source: string
  category_code: string | null
  category_name: Names | null
  priority: number
  title: string
  description: string
  lon: number | null
  lat: number | null
  address: string | null
  street_code: string | null
  community_code: string | null
  grid_code: string | null
  facility_code: string | null
  reporter_name: string | null
  reporter_contact: string | null
  department_code: string | null
  classified_as: string | null
  classification_confidence: number | null
  triage_reason: string | null
  request_kind: string | null
  answer?: { code: string; title: string; answer: string; answer_en: string } | null
  emergency: boolean
  located_by: string | null
  duplicate_candidates: string[]
  merged_into: string | null
  escalation_level: number
  pending_request: PendingRequest | null
  reported_at: string
  dispatched_at: string | null
  accepted_at: string | null
  resolved_at: string | null
  closed_at: string | null
  accept_due_at: string | null
  resolve_due_at: string | null
  /** Sent by newer servers; older ones leave the page to work it out from the deadlines. */
  resolve_warn_at?: string | null
  sla?: 'ok' | 'warning' | 'breached' | null
  overdue: boolean
  verification_passed: boolean | null
  satisfaction: number | null
  version: number
}

export interface HistoryItem {
  id: number
  at: string
  actor: string
  transition: string
  from_state: string | null
  to_state: string
  department_code: string | null
  note: string | null
  photos: number[]
  public?: boolean
}

export interface CaseDetail extends CaseItem {
  history: HistoryItem[]
  links: { kind: 'duplicate_of' | 'has_duplicate'; number: string | null }[]
  allowed_transitions: string[]
}

export interface MinorClass {
  code: string
  name: Names
  department: string
  priority: number
  accept_minutes: number
  resolve_hours: number
  calendar: string
}

export interface MajorClass {
  code: string
  kind: string
  name: Names
  minor: MinorClass[]
}

export interface Department {
  code: string
  name: string
  name_en: string
  kind: string
  area_code: string | null
  active: boolean
}

export interface Area {
  code: string
  name: string
  name_en: string
  level: string
  parent_code: string | null
}

export interface Classification {
  label: string
  confidence: number
  department: string
  department_confidence: number
  top: [string, number][]
  threshold: number
  confident: boolean
}

export interface Alarm {
  id: number
  origin: string
  alarm_type: string
  rule_code: string
  severity: string
  level: string
  status: string
  building_code: string | null
  community_code: string | null
  measurement: string | null
  value: number | null
  detail: Record<string, unknown>
  count: number
  raised_at: string
  last_event_at: string
  acknowledged_at: string | null
  acknowledged_by: string | null
  cleared_at: string | null
  case_number: string | null
  version: number
}

export interface Named {
  code: string
  name: Names
}

export interface Hazard {
  id: number
  code: string
  target_kind: string
  target_code: string
  building_code: string | null
  venue_code: string | null
  community_code: string | null
  address: string | null
  type: Named
  description: string
  severity: 'general' | 'major'
  severity_name: Names
  state: 'open' | 'rectified' | 'closed'
  state_name: Names
  found_at: string
  deadline: string
  deadline_date: string
  overdue: boolean
  failures: number
  case_number: string | null
  version: number
}

export interface HazardStep {
  at: string
  actor: string
  transition: string
  from_state: string | null
  to_state: string
  note: string | null
  inspection_code: string | null
  photos: number[]
}

export interface HazardDetail extends Hazard {
  inspection_code: string
  history: HazardStep[]
  allowed_actions: string[]
}

export interface HazardType {
  code: string
  name: Names
  deadline_days: number
}

export interface Place {
  code: string
  name: string
  address: string
  community_code?: string | null
}
