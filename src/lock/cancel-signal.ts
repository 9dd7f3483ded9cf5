/**
 * The part of AbortSignal a protocol uses to learn that a waiting request was withdrawn. A real AbortSignal
 * fits; so does CancelSignal below.
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * A one-shot abort signal without EventTarget: every transaction carries one, and creating a Node
 * AbortController per transaction cost more than the rest of an uncontended acquire put together.
 */
export class CancelSignal implements AbortSignalLike {
  aborted = false
  reason: unknown
  /** The usual single listener (a protocol's), kept without an array: every waiting transaction has one. */
  private listener: (() => void) | undefined
  private more: (() => void)[] | undefined

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return
    if (this.listener === undefined) this.listener = listener
    else (this.more ??= []).push(listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) {
      this.listener = this.more?.shift()
      return
    }
    const index = this.more?.indexOf(listener) ?? -1
    if (index >= 0) this.more!.splice(index, 1)
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const first = this.listener
    const more = this.more
    this.listener = this.more = undefined
    first?.()
    more?.forEach((listener) => listener())
  }
}
