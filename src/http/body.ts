import type { IncomingMessage } from 'node:http'

/** Thrown when a request body is too large or not JSON; `status` is what to answer. */
export class BodyError extends Error {
  override readonly name = 'BodyError'

  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message)
  }
}

/** The actions' bodies are a name or two; anything near this is not from the dashboard. */
const DEFAULT_LIMIT_BYTES = 4096

/** Reads a JSON request body of at most `limitBytes`. */
export async function readJsonBody(request: IncomingMessage, limitBytes = DEFAULT_LIMIT_BYTES): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limitBytes) throw new BodyError(413, `request body larger than ${limitBytes} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch {
    throw new BodyError(400, 'request body is not JSON')
  }
}
