/**
 * A readers-writer lock for one process. Reads that merge the store with the in-memory records share it; the
 * loader takes it alone while it commits a batch to the store and drops that batch from memory, so a read never
 * sees a record in both places or in neither. Writers are preferred: a waiting writer stops new readers, so a
 * steady stream of reads cannot hold the loader off.
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private writersWaiting = 0;
  private waiters: (() => void)[] = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writing || this.writersWaiting > 0) await this.wait();
    this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    this.writersWaiting++;
    try {
      while (this.writing || this.readers > 0) await this.wait();
    } finally {
      this.writersWaiting--;
    }
    this.writing = true;
    try {
      return await fn();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
