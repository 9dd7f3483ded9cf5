/**
 * A place in a WaiterQueue; `remove` takes it out in O(1). A value may be its own place (see `link`): what waits in
 * a queue thousands deep is what every scavenge copies.
 */
export interface QueueEntry<T> {
  readonly value: T
  readonly priority: number
  /** Its bucket while queued, undefined once removed. */
  bucket: Bucket<T> | undefined
  prev: QueueEntry<T> | undefined
  next: QueueEntry<T> | undefined
}

/**
 * A class, not an object literal, for the reason given at TransactionRun's reactions: an entry V8 allocated
 * straight in the old generation kept the younger entries it links to alive through every scavenge (10,000
 * waiters: most processes at ~160k transactions/s instead of ~550k).
 */
class Entry<T> implements QueueEntry<T> {
  bucket: Bucket<T> | undefined = undefined
  prev: QueueEntry<T> | undefined = undefined
  next: QueueEntry<T> | undefined = undefined
  constructor(
    readonly value: T,
    readonly priority: number,
  ) {}
}

/** The waiters of one priority, first come first: a doubly linked list. */
export interface Bucket<T> {
  readonly priority: number
  head: QueueEntry<T> | undefined
  tail: QueueEntry<T> | undefined
}

/**
 * Waiters ranked highest priority first, first come first served within a priority. Adding, removing any
 * entry and reading the first cost the same at any queue length: each priority is a linked list, and only
 * the (few) distinct priorities present are kept sorted.
 */
export class WaiterQueue<T> {
  /** Non-empty buckets, highest priority first. */
  private readonly buckets: Bucket<T>[] = []
  private count = 0

  get size(): number {
    return this.count
  }

  /** The best-ranked value, or undefined when empty. */
  first(): T | undefined {
    return this.buckets[0]?.head?.value
  }

  /** Queues `value` after every value of the same or higher priority. */
  push(value: T, priority: number): QueueEntry<T> {
    const entry = new Entry(value, priority)
    this.link(entry)
    return entry
  }

  /** Queues an entry made by the caller (one not queued anywhere), as `push` would its value. */
  link(entry: QueueEntry<T>): void {
    const bucket = this.bucketFor(entry.priority)
    entry.bucket = bucket
    entry.prev = bucket.tail
    entry.next = undefined
    if (bucket.tail) bucket.tail.next = entry
    else bucket.head = entry
    bucket.tail = entry
    this.count++
  }

  /** Takes `entry` out; removing one that is not queued (any more) does nothing. */
  remove(entry: QueueEntry<T>): void {
    const bucket = entry.bucket
    if (!bucket) return
    entry.bucket = undefined
    if (entry.prev) entry.prev.next = entry.next
    else bucket.head = entry.next
    if (entry.next) entry.next.prev = entry.prev
    else bucket.tail = entry.prev
    entry.prev = entry.next = undefined
    this.count--
    if (!bucket.head) this.buckets.splice(this.buckets.indexOf(bucket), 1)
  }

  /** Values in rank order. Removing the value just visited while iterating is safe. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const bucket of [...this.buckets]) {
      for (let entry = bucket.head; entry;) {
        const next = entry.next
        yield entry.value
        entry = next
      }
    }
  }

  /** The bucket of `priority`, made if missing. A scan, but over distinct priorities, not waiters. */
  private bucketFor(priority: number): Bucket<T> {
    const buckets = this.buckets
    let index = 0
    while (index < buckets.length && buckets[index]!.priority > priority) index++
    const found = buckets[index]
    if (found?.priority === priority) return found
    const bucket: Bucket<T> = { priority, head: undefined, tail: undefined }
    buckets.splice(index, 0, bucket)
    return bucket
  }
}
