// Every area's catalogue, merged under its own namespace: t('centre.feed.title'), t('work.inbox.accept').
import { messages as centre } from '../centre/messages'
import { messages as citizen } from '../citizen/messages'
import { messages as hub } from '../hub/messages'
import { messages as insight } from '../insight/messages'
import { messages as shell } from '../shell/messages'
import { messages as work } from '../work/messages'

type Tree = { [key: string]: string | Tree }
export interface Catalogue {
  'zh-CN': Tree
  en: Tree
}

const areas: Record<string, Catalogue> = { shell, centre, work, citizen, hub, insight }

export const catalogues = {
  'zh-CN': Object.fromEntries(Object.entries(areas).map(([k, v]) => [k, v['zh-CN']])),
  en: Object.fromEntries(Object.entries(areas).map(([k, v]) => [k, v.en])),
}
