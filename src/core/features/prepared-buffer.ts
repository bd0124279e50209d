import type { PreparedHistory } from './history.ts';

/**
 * A PreparedHistory whose typed arrays grow as needed and are reused account after account, so streaming a
 * book allocates nothing per account. `reset()` empties it; `copy()` gives a standalone PreparedHistory.
 */
export class PreparedBuffer implements PreparedHistory {
  n = 0;
  due = new Int32Array(64);
  paid = new Int32Array(64);
  firstPaid = new Int32Array(64);
  amountDue = new Float64Array(64);
  amountPaid = new Float64Array(64);
  contacts = 0;
  contactMs = new Float64Array(64);
  channel = new Uint8Array(64);
  outcome = new Uint8Array(64);
  promiseDay = new Int32Array(64);

  reset(): void {
    this.n = 0;
    this.contacts = 0;
  }

  /** Makes room for `extra` more instalments. */
  reserveInstallments(extra: number): void {
    const need = this.n + extra;
    if (need <= this.due.length) return;
    const cap = Math.max(need, this.due.length * 2);
    this.due = grow(this.due, cap);
    this.paid = grow(this.paid, cap);
    this.firstPaid = grow(this.firstPaid, cap);
    this.amountDue = grow(this.amountDue, cap);
    this.amountPaid = grow(this.amountPaid, cap);
  }

  /** Makes room for `extra` more contacts. */
  reserveContacts(extra: number): void {
    const need = this.contacts + extra;
    if (need <= this.contactMs.length) return;
    const cap = Math.max(need, this.contactMs.length * 2);
    this.contactMs = grow(this.contactMs, cap);
    this.channel = grow(this.channel, cap);
    this.outcome = grow(this.outcome, cap);
    this.promiseDay = grow(this.promiseDay, cap);
  }

  /** A PreparedHistory of its own (exact-length arrays), for when the account outlives this buffer's reuse. */
  copy(): PreparedHistory {
    const n = this.n;
    const c = this.contacts;
    return {
      n,
      due: this.due.slice(0, n),
      paid: this.paid.slice(0, n),
      firstPaid: this.firstPaid.slice(0, n),
      amountDue: this.amountDue.slice(0, n),
      amountPaid: this.amountPaid.slice(0, n),
      contacts: c,
      contactMs: this.contactMs.slice(0, c),
      channel: this.channel.slice(0, c),
      outcome: this.outcome.slice(0, c),
      promiseDay: this.promiseDay.slice(0, c),
    };
  }
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}
