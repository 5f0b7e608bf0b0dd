// The live feed (/api/v1/alerts/stream) read with fetch rather than EventSource, because EventSource cannot
// send the bearer token. Parses the SSE framing, reconnects with a growing pause, and stops when aborted.
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

export function parseSse(chunk: string): { items: FeedItem[]; rest: string } {
  const items: FeedItem[] = []
  const blocks = chunk.split(/\r?\n\r?\n/)
  const rest = blocks.pop() ?? ''
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
    if (data.length === 0) continue
    const text = data.join('\n')
    items.push({ event, id, data: parseJson(text) })
  }
  return { items, rest }
}

export function follow(
  token: () => string | null,
  onItem: (item: FeedItem) => void,
  onState: (connected: boolean) => void = () => {},
): () => void {
  const stop = new AbortController()
  let pause = 500
  const run = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      const t = token()
      if (!t) return
      try {
        const res = await fetch('/api/v1/alerts/stream', {
          headers: { Authorization: `Bearer ${t}`, Accept: 'text/event-stream' },
          signal: stop.signal,
        })
        if (!res.ok || !res.body) throw new Error(`stream ${res.status}`)
        onState(true)
        pause = 500
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          const { items, rest } = parseSse(buffer + value)
          buffer = rest
          items.forEach(onItem)
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
