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
  private listeners: (() => void)[] | undefined

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return
    ;(this.listeners ??= []).push(listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1
    if (index >= 0) this.listeners!.splice(index, 1)
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.listeners
    this.listeners = undefined
    listeners?.forEach((listener) => listener())
  }
}
