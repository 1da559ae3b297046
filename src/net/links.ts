/** An item linked into one `Links` list through its own fields. */
export interface Linked<T> {
  older: T | undefined;
  newer: T | undefined;
  /** Whether it is in the list now. */
  listed: boolean;
}

/**
 * Items in the order they were added, linked through the items themselves: a connection adds
 * and removes its own without hashing and without the table a Set reallocates as thousands a
 * second come and go (issue 12).
 */
export class Links<T extends Linked<T>> {
  private head: T | undefined;
  private tail: T | undefined;

  add(x: T): void {
    x.older = this.tail;
    x.newer = undefined;
    x.listed = true;
    if (this.tail) this.tail.newer = x;
    else this.head = x;
    this.tail = x;
  }

  delete(x: T): void {
    if (!x.listed) return;
    if (x.older) x.older.newer = x.newer;
    else this.head = x.newer;
    if (x.newer) x.newer.older = x.older;
    else this.tail = x.older;
    x.older = x.newer = undefined;
    x.listed = false;
  }

  /** Oldest first; the item being visited may be deleted meanwhile. */
  *[Symbol.iterator](): Generator<T> {
    for (let x = this.head; x; ) {
      const newer = x.newer;
      yield x;
      x = newer;
    }
  }

  clear(): void {
    for (const x of this) this.delete(x);
  }
}
