// The shapes /api/v1/datahub sends (see urbanbrain/domains/datahub/schemas.py); only what the screens use.
export type SharingClass = 'unconditional' | 'conditional' | 'not_shared'
export type Op = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in'

export interface DatasetSummary {
  code: string
  title_zh: string
  title_en: string
  owner_department: string
  source_kind: string
  update_frequency: string
  sharing_class: SharingClass
  keywords: string[]
  field_count: number
  protected_fields: number
}

export interface DatasetField {
  name: string
  type: string
  description: string
  description_en: string
  protected: boolean
  mask: string | null
}

export interface Dataset extends Omit<DatasetSummary, 'field_count' | 'protected_fields'> {
  description: string
  fields: DatasetField[]
  published_by: string
  published_at: string
  updated_at: string
  version: number
}

export interface RowCondition {
  field: string
  op: Op
  value: string | number | boolean | (string | number | boolean)[]
}

export interface GrantedField {
  name: string
  mode: 'clear' | 'masked'
}

export interface Grant {
  id: number
  dataset: string
  consumer_department: string
  purpose: string
  fields: GrantedField[]
  rows: RowCondition[] | null
  granted_by: string
  granted_at: string
  expires_at: string | null
  revoked_at: string | null
  revoked_by: string | null
  active: boolean
  api_key_prefix: string | null
}

export interface AccessRequest {
  id: number
  dataset: string
  consumer_department: string
  requested_by: string
  purpose: string
  fields: string[]
  rows: RowCondition[] | null
  state: 'pending' | 'approved' | 'refused'
  decided_by: string | null
  decided_at: string | null
  reason: string | null
  created_at: string
  version: number
  grant: Grant | null
}

export interface RowsPage {
  items: Record<string, unknown>[]
  total: number
  page: number
  page_size: number
  grant: number
  fields: GrantedField[]
}

export interface GrantKey {
  grant: number
  api_key: string
  prefix: string
}

export interface UsageRow {
  dataset: string
  consumer_department: string
  accesses: number
  records: number
  last_day: string | null
}
