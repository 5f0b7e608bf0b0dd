// The live feed (/api/v1/alerts/stream) read with fetch rather than EventSource, because EventSource cannot
// send the bearer token. Parses the SSE framing, reconnects with a growing pause sending the id of the last
// item it had (Last-Event-ID, as EventSource would) so that the platform replays what was missed, hands a
// "gap" (what was missed cannot be replayed) to the screen to reload its lists, and stops when aborted.
export interface FeedItem {
  event: string
  id: string | null
  data: unknown
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * The complete events in `chunk` and the unfinished rest; `lastId` is the last id the complete blocks set,
 * data or not (the platform marks its position with an id on a comment, as EventSource keeps it too).
 */
export function parseSse(chunk: string): { items: FeedItem[]; rest: string; lastId: string | null } {
  const items: FeedItem[] = []
  const blocks = chunk.split(/\r?\n\r?\n/)
  const rest = blocks.pop() ?? ''
  let lastId: string | null = null
  for (const block of blocks) {
    let event = 'message'
    let id: string | null = null
    const data: string[] = []
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue
      const at = line.indexOf(':')
      const field = at < 0 ? line : line.slice(0, at)
      const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'id') id = value
      else if (field === 'data') data.push(value)
    }
    if (id !== null) lastId = id
    if (data.length === 0) continue
    const text = data.join('\n')
    items.push({ event, id, data: parseJson(text) })
  }
  return { items, rest, lastId }
}

export interface FollowHooks {
  /** Connected (true) or lost (false). */
  onState?: (connected: boolean) => void
  /** The platform could not replay what was missed while away: reload what the screen shows. */
  onGap?: () => void
}

export function follow(token: () => string | null, onItem: (item: FeedItem) => void, hooks: FollowHooks = {}): () => void {
  const { onState = () => {}, onGap = () => {} } = hooks
  const stop = new AbortController()
  let pause = 500
  let lastId: string | null = null // the feed's position: sent back on each reconnect
  const run = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      const t = token()
      if (!t) return
      try {
        const headers: Record<string, string> = { Authorization: `Bearer ${t}`, Accept: 'text/event-stream' }
        if (lastId) headers['Last-Event-ID'] = lastId
        const res = await fetch('/api/v1/alerts/stream', { headers, signal: stop.signal })
        if (!res.ok || !res.body) throw new Error(`stream ${res.status}`)
        onState(true)
        pause = 500
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          const { items, rest, lastId: id } = parseSse(buffer + value)
          buffer = rest
          lastId = id ?? lastId
          for (const item of items) {
            if (item.event === 'gap') onGap()
            else onItem(item)
          }
        }
      } catch {
        if (stop.signal.aborted) return
      }
      onState(false)
      await new Promise((r) => setTimeout(r, pause))
      pause = Math.min(pause * 2, 15000)
    }
  }
  void run()
  return () => stop.abort()
}
