// The citizens' Open311 logic: what a resident would check - an empty report is refused with the right
// reason, the form carries what they entered, the number (or token) and notice come back, texts in their language.
import { describe, expect, it } from 'vitest'
import {
  AUTO,
  buildReportForm,
  checkPhoto,
  checkReport,
  emergencyNumber,
  groupName,
  groupServices,
  normaliseNumber,
  open311Error,
  parseCreated,
  parseStatusNotes,
  parseUpdate,
  pickPair,
  serviceName,
  shortTime,
  splitNotice,
  suggestLocally,
  type ReportInput,
  type Service,
} from '../src/citizen/open311'

const svc = (code: string, name: string, en: string, group: string, groupEn: string, kinds = ''): Service => ({
  service_code: code,
  service_name: name,
  description: `${en}. 承办 / Handled by: 福田区水务局 (Futian Water Affairs Bureau)`,
  metadata: !!kinds,
  type: 'realtime',
  keywords: [name, en, group, groupEn, ...(kinds ? [kinds] : [])].join(', '),
  group,
})

const SERVICES: Service[] = [
  svc('C0101', '井盖破损或缺失', 'Manhole cover damaged or missing', '公用设施', 'Public facilities', 'manhole_cover'),
  svc('C0201', '路灯不亮或损坏', 'Street light out or damaged', '道路交通', 'Roads and traffic', 'street_light'),
  svc('C0202', '交通信号灯故障', 'Traffic signal fault', '道路交通', 'Roads and traffic', 'traffic_signal'),
  svc('E1003', '黄赌毒线索举报', 'Drugs, gambling and prostitution tip-off', '治安服务', 'Public order services, police'),
  {
    service_code: 'auto',
    service_name: '其他问题（自动分类）',
    description: 'Not sure which service?',
    metadata: false,
    type: 'realtime',
    keywords: '其他, other, auto',
    group: '其他',
  },
]

const report = (over: Partial<ReportInput> = {}): ReportInput => ({
  description: '路灯不亮',
  serviceCode: AUTO,
  lat: null,
  lon: null,
  address: '',
  facilityCode: '',
  name: '',
  phone: '',
  photo: null,
  ...over,
})

describe('checking a report before it is sent', () => {
  it('refuses an empty or blank description', () => {
    expect(checkReport(report({ description: '   ', address: '福华路' }))).toEqual(['description'])
  })
  it('needs a place: coordinates, an address or a facility', () => {
    expect(checkReport(report())).toEqual(['location'])
    expect(checkReport(report({ address: '福华三路 88 号' }))).toEqual([])
    expect(checkReport(report({ lat: 22.54, lon: 114.05 }))).toEqual([])
    expect(checkReport(report({ facilityCode: 'FT-SL-000001' }))).toEqual([])
  })
  it('accepts a phone number the platform accepts and refuses words', () => {
    expect(checkReport(report({ address: 'x', phone: '138 0013 8000' }))).toEqual([])
    expect(checkReport(report({ address: 'x', phone: '+86 (755) 8888-1234' }))).toEqual([])
    expect(checkReport(report({ address: 'x', phone: 'call me' }))).toEqual(['phone'])
  })
  it('lists every problem in the order of the form', () => {
    expect(checkReport(report({ description: '', phone: 'no' }))).toEqual(['description', 'location', 'phone'])
  })
})

describe('the report form', () => {
  it('carries the key, the service, the trimmed text and the coordinates', () => {
    const f = buildReportForm(report({ description: '  井盖丢了 ', lat: 22.5407123456, lon: 114.0553, serviceCode: 'C0101' }), 'k1')
    expect(f.get('api_key')).toBe('k1')
    expect(f.get('service_code')).toBe('C0101')
    expect(f.get('description')).toBe('井盖丢了')
    expect(f.get('lat')).toBe('22.540712')
    expect(f.get('long')).toBe('114.055300')
    expect(f.has('address_string')).toBe(false)
  })
  it('lets the classifier choose when no category is picked', () => {
    expect(buildReportForm(report({ serviceCode: '', address: 'a' }), 'k').get('service_code')).toBe('auto')
  })
  it('sends an address in words, the facility as an attribute, and leaves out empty contact fields', () => {
    const f = buildReportForm(report({ address: ' 福华路 ', facilityCode: 'FT-SL-000001' }), 'k')
    expect(f.get('address_string')).toBe('福华路')
    expect(f.get('attribute[facility_code]')).toBe('FT-SL-000001')
    expect(f.has('lat')).toBe(false)
    expect(f.has('first_name')).toBe(false)
    expect(f.has('phone')).toBe(false)
    expect(f.has('media')).toBe(false)
  })
  it('attaches the photo as media, with the name and phone given', () => {
    const photo = new Blob(['x'], { type: 'image/jpeg' })
    const f = buildReportForm(report({ address: 'a', photo, photoName: 'p.jpg', name: '王先生', phone: '13800138000' }), 'k')
    const media = f.get('media') as File
    expect(media).toBeInstanceOf(Blob)
    expect(media.name).toBe('p.jpg')
    expect(f.get('first_name')).toBe('王先生')
    expect(f.get('phone')).toBe('13800138000')
  })
})

describe('photos', () => {
  it('takes JPEG, PNG and WebP up to 10 MB', () => {
    expect(checkPhoto({ size: 2_000_000, type: 'image/jpeg' })).toBeNull()
    expect(checkPhoto({ size: 11 * 1024 * 1024, type: 'image/png' })).toBe('photoTooLarge')
    expect(checkPhoto({ size: 100, type: 'image/gif' })).toBe('photoType')
  })
})

describe('the answer to a report', () => {
  it('reads the number and the notice', () => {
    expect(parseCreated([{ service_request_id: '440304-C0201-000001', service_notice: '按时限…', account_id: null }])).toEqual({
      number: '440304-C0201-000001',
      token: null,
      notice: '按时限…',
    })
  })
  it('reads the token when the number is not assigned yet', () => {
    expect(parseCreated([{ token: 'abc-123', service_notice: null }])).toEqual({ number: null, token: 'abc-123', notice: null })
  })
  it('copes with an empty or odd answer', () => {
    expect(parseCreated([])).toEqual({ number: null, token: null, notice: null })
    expect(parseCreated(null)).toEqual({ number: null, token: null, notice: null })
  })
  it("gives the platform's sentence from an Open311 error body", () => {
    expect(open311Error([{ code: 400, description: '缺少参数 description。' }])).toBe('缺少参数 description。')
    expect(open311Error({ code: 'x' })).toBeNull()
    expect(open311Error([])).toBeNull()
  })
  it('finds the number to call in an emergency notice, in either language', () => {
    const n = '紧急情况请立即拨打 119！已同步通知区指挥中心。 / This is an emergency: call 119 now. The command centre has been told.'
    expect(emergencyNumber(n)).toBe('119')
    expect(emergencyNumber('This is an emergency: call 110 now.')).toBe('110')
    expect(emergencyNumber('按时限 2 小时（日历时间）内处置 / To be resolved within 2 calendar hours')).toBeNull()
  })
  it('shows a plain notice in the reader language', () => {
    const plain = '按时限 2 小时（日历时间）内处置 / To be resolved within 2 calendar hours'
    expect(splitNotice(plain, 'zh-CN')).toEqual({ callNow: null, rest: '按时限 2 小时（日历时间）内处置' })
    expect(splitNotice(plain, 'en')).toEqual({ callNow: null, rest: 'To be resolved within 2 calendar hours' })
    expect(splitNotice(null, 'en')).toEqual({ callNow: null, rest: '' })
  })
  it('takes the call out of an emergency notice and keeps what follows', () => {
    const sos =
      '紧急情况请立即拨打 119！已同步通知区指挥中心。 / This is an emergency: call 119 now. The command centre has been told.' +
      ' 按时限 1 小时（日历时间）内处置 / To be resolved within 1 calendar hours'
    expect(splitNotice(sos, 'en')).toEqual({ callNow: '119', rest: 'To be resolved within 1 calendar hours' })
    expect(splitNotice(sos, 'zh-CN')).toEqual({ callNow: '119', rest: '按时限 1 小时（日历时间）内处置' })
    const bare = '紧急情况请立即拨打 110！已同步通知区指挥中心。 / This is an emergency: call 110 now. The command centre has been told.'
    expect(splitNotice(bare, 'zh-CN')).toEqual({ callNow: '110', rest: '' })
  })
  it('keeps a consultation answer whole', () => {
    const answer = '办理居住证请携带身份证到社区工作站。'
    expect(splitNotice(answer, 'en')).toEqual({ callNow: null, rest: answer })
  })
})

describe('services', () => {
  it('names a service in the reader language', () => {
    expect(serviceName(SERVICES[1], 'zh-CN')).toBe('路灯不亮或损坏')
    expect(serviceName(SERVICES[1], 'en')).toBe('Street light out or damaged')
  })
  it('finds the English group even when names hold commas', () => {
    expect(groupName(SERVICES[3], 'en')).toBe('Public order services, police')
    expect(groupName(SERVICES[2], 'en')).toBe('Roads and traffic')
    expect(groupName(SERVICES[2], 'zh-CN')).toBe('道路交通')
  })
  it('groups by major class in order and leaves "auto" out', () => {
    const g = groupServices(SERVICES, 'zh-CN')
    expect(g.map((x) => x.name)).toEqual(['公用设施', '道路交通', '治安服务'])
    expect(g[1].services.map((s) => s.service_code)).toEqual(['C0201', 'C0202'])
  })
  it('guesses the class from the words when the classifier is not open', () => {
    expect(suggestLocally('福华路的路灯晚上不亮', SERVICES)?.service_code).toBe('C0201')
    expect(suggestLocally('这里井盖缺失了很危险', SERVICES)?.service_code).toBe('C0101')
    expect(suggestLocally('你好', SERVICES)).toBeNull()
    expect(suggestLocally('', SERVICES)).toBeNull()
  })
})

describe('tracking texts', () => {
  it('splits a status note into the state in the reader language and the note', () => {
    expect(parseStatusNotes('已派遣 / Dispatched', 'zh-CN')).toEqual({ state: '已派遣', note: '' })
    expect(parseStatusNotes('已结案 / Closed：已更换灯具', 'en')).toEqual({ state: 'Closed', note: '已更换灯具' })
    expect(parseStatusNotes(null, 'en')).toEqual({ state: '', note: '' })
    // a note the platform wrote in both languages is shown in one
    expect(parseStatusNotes('已结案 / Closed：复核通过 / Verified', 'zh-CN')).toEqual({ state: '已结案', note: '复核通过' })
  })
  it('reads an update as step, state and note', () => {
    expect(parseUpdate('派遣 / Dispatch（已派遣 / Dispatched）', 'zh-CN')).toEqual({ step: '派遣', state: '已派遣', note: '' })
    expect(parseUpdate('办结 / Resolve（已处置待核查 / Resolved, awaiting verification）：已修复', 'en')).toEqual({
      step: 'Resolve',
      state: 'Resolved, awaiting verification',
      note: '已修复',
    })
    expect(parseUpdate('something else', 'en')).toEqual({ step: 'something else', state: '', note: '' })
  })
  it('picks one side of a pair and leaves other text alone', () => {
    expect(pickPair('是 / Yes', 'en')).toBe('Yes')
    expect(pickPair('a / b / c', 'en')).toBe('a / b / c')
  })
  it('shows the platform time as it is written (district time)', () => {
    expect(shortTime('2025-01-02T08:30:15+08:00')).toBe('2025-01-02 08:30')
    expect(shortTime(null)).toBe('')
  })
  it('tidies a typed case number and keeps tokens as they are', () => {
    expect(normaliseNumber(' 440304-c0201-000017 ')).toBe('440304-C0201-000017')
    expect(normaliseNumber('3f1c2a9e-0b7d-4c1e-9a55-2f7e1c0d9b11')).toBe('3f1c2a9e-0b7d-4c1e-9a55-2f7e1c0d9b11')
  })
})
