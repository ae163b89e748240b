/**
 * The last key before which everything listed has been dealt with: what `--start-after` resumes from after
 * an interruption. Keys are tracked in listing order (S3 lists in key order); settled runs collapse to
 * their last key, so memory follows the files in flight, not the bucket.
 */
export interface WatermarkSlot {
  key: string;
  settled: boolean;
}

export class Watermark {
  private slots: WatermarkSlot[] = [];
  private head = 0;
  /** Every key up to and including this one has been dealt with. */
  key: string | undefined;

  constructor(startAfter?: string) {
    this.key = startAfter;
  }

  /** A key to process: returns its slot, to settle when done. */
  pending(key: string): WatermarkSlot {
    const slot = { key, settled: false };
    this.slots.push(slot);
    return slot;
  }

  /** A key dealt with at once (skipped, outside the window). */
  passed(key: string): void {
    if (this.head === this.slots.length) {
      this.key = key;
      return;
    }
    const last = this.slots[this.slots.length - 1];
    if (last.settled) last.key = key;
    else this.slots.push({ key, settled: true });
  }

  settle(slot: WatermarkSlot): void {
    slot.settled = true;
    while (this.head < this.slots.length && this.slots[this.head].settled) this.key = this.slots[this.head++].key;
    if (this.head === this.slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }
}
