/** A bounded FIFO between one producer and several consumers: `push` waits while it is full. */
export class WorkQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private closed = false;
  private takers: ((item: T | undefined) => void)[] = [];
  private spaceWaiters: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds an item (ignored once closed); resolves when there is room for the next one. */
  async push(item: T): Promise<void> {
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) return taker(item);
    this.items.push(item);
    while (this.size >= this.capacity && !this.closed) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
  }

  /** The next item, waiting for one; undefined once the queue is closed and empty. */
  take(): Promise<T | undefined> {
    if (this.size > 0) {
      const item = this.items[this.head];
      // Let the item be collected; compact once the taken slots are most of the array.
      this.items[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.spaceWaiters.shift()?.();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** No more items; `drop` discards the ones not taken yet and returns how many. */
  close(drop = false): number {
    this.closed = true;
    let dropped = 0;
    if (drop) {
      dropped = this.size;
      this.items = [];
      this.head = 0;
    }
    for (const taker of this.takers.splice(0)) taker(undefined);
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
    return dropped;
  }
}
