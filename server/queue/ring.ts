/**
 * A growable ring buffer: O(1) push at either end and O(1) shift, where `Array.prototype.shift`
 * is O(n) once an array leaves V8's fast path (a 100,000-frame batch backlog would pay that on
 * every dequeue).
 */
export class Ring<T> {
  #buf: (T | undefined)[]
  #head = 0
  #size = 0

  constructor(initialCapacity = 16) {
    // a power of two lets the index wrap with a mask instead of a modulo
    let cap = 1
    while (cap < initialCapacity) cap <<= 1
    this.#buf = new Array<T | undefined>(cap)
  }

  get size(): number {
    return this.#size
  }

  push(item: T): void {
    if (this.#size === this.#buf.length) this.#grow()
    this.#buf[(this.#head + this.#size) & (this.#buf.length - 1)] = item
    this.#size++
  }

  /** Puts an item back at the front: the embedded queue serves a requeued frame next. */
  unshift(item: T): void {
    if (this.#size === this.#buf.length) this.#grow()
    this.#head = (this.#head - 1) & (this.#buf.length - 1)
    this.#buf[this.#head] = item
    this.#size++
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head]
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const item = this.#buf[this.#head]
    // release the reference so a delivered frame's bytes can be collected
    this.#buf[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#buf.length - 1)
    this.#size--
    return item
  }

  /** Keeps the items for which `keep` is true, in order; returns the removed ones. O(n). */
  filter(keep: (item: T) => boolean): T[] {
    const removed: T[] = []
    const n = this.#size
    const mask = this.#buf.length - 1
    let write = 0
    for (let i = 0; i < n; i++) {
      const item = this.#buf[(this.#head + i) & mask] as T
      if (keep(item)) this.#buf[(this.#head + write++) & mask] = item
      else removed.push(item)
    }
    for (let i = write; i < n; i++) this.#buf[(this.#head + i) & mask] = undefined
    this.#size = write
    return removed
  }

  *[Symbol.iterator](): IterableIterator<T> {
    const mask = this.#buf.length - 1
    for (let i = 0; i < this.#size; i++) yield this.#buf[(this.#head + i) & mask] as T
  }

  #grow(): void {
    const old = this.#buf
    const next = new Array<T | undefined>(old.length * 2)
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)]
    this.#buf = next
    this.#head = 0
  }
}
