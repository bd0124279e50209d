/**
 * Micro-batching of concurrent single-account score requests (issue 15 item 4; DESIGN's STYLE §12: "concurrent
 * single requests are scored together when that is cheaper").
 *
 * The window is one turn of the event loop, not a timer: an item submitted while no batch is open opens one and
 * schedules its run with `setImmediate`, which fires right after the current poll phase. Every request whose body
 * was read in that phase (under load, every one that arrived while the previous batch was being scored) joins it;
 * an idle server runs a lone request in the same loop iteration it arrived in, so nothing waits for a window to
 * close. A batch is also run early when it reaches `maxItems`, or when an item for an account already in it
 * arrives (one decision per account per batch: the second goes into the next batch, as two separate concurrent
 * requests would).
 */

/** What a batch run gives back for one item, in submission order. */
export type ItemOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

interface Waiting<I, O> {
  item: I;
  resolve: (v: O) => void;
  reject: (e: unknown) => void;
}

export class MicroBatcher<I, O> {
  private open: Waiting<I, O>[] = [];
  private keys = new Set<string>();
  private scheduled: NodeJS.Immediate | null = null;

  /**
   * @param run decides a batch; resolves to one outcome per item in order. A rejection fails every item with it
   *   (e.g. the ledger could not record the batch: none of its decisions was acknowledged).
   * @param keyOf the account an item decides (at most one item per account in a batch).
   * @param maxItems a batch is run once it holds this many items.
   * @param onRun hears the size of each batch run (a metric).
   */
  constructor(
    private readonly run: (items: I[]) => Promise<ItemOutcome<O>[]>,
    private readonly keyOf: (item: I) => string,
    private readonly maxItems: number,
    private readonly onRun: (size: number) => void = () => undefined,
  ) {}

  /** Resolves with the item's answer once its batch is decided and recorded; rejects with its own error. */
  submit(item: I): Promise<O> {
    const key = this.keyOf(item);
    if (this.keys.has(key)) this.flush();
    return new Promise<O>((resolve, reject) => {
      this.open.push({ item, resolve, reject });
      this.keys.add(key);
      if (this.open.length >= this.maxItems) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Runs the open batch now (if any). */
  private flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.open;
    if (batch.length === 0) return;
    this.open = [];
    this.keys = new Set();
    this.onRun(batch.length);
    let started: Promise<ItemOutcome<O>[]>;
    try {
      started = this.run(batch.map((w) => w.item));
    } catch (e) {
      started = Promise.reject(e);
    }
    started.then(
      (outcomes) =>
        batch.forEach((w, k) => {
          const o = outcomes[k];
          if (!o) w.reject(new Error(`micro-batch: no outcome for item ${k} of ${batch.length}`));
          else if (o.ok) w.resolve(o.value);
          else w.reject(o.error);
        }),
      (e: unknown) => {
        for (const w of batch) w.reject(e);
      },
    );
  }
}
