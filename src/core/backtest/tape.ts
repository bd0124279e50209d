/**
 * A policy's replay, one entry per snapshot in typed arrays (a million snapshots fit in a few tens of MB): what it
 * chose and what each estimator makes of that choice. NaN marks "this estimator has nothing for this snapshot".
 */
/** `Tape.channel` of a decision without a channel. */
export const NO_CHANNEL = 255;

export class Tape {
  n = 0;
  private cap: number;
  treatment: Uint8Array;
  /** Index into POLICY_CHANNELS of the decision's channel; NO_CHANNEL for hold or a logged treatment. */
  channel: Uint8Array;
  /** The decision's own expected recovery (its policy's response model); NaN for a logged treatment. */
  expected: Float64Array;
  cost: Float64Array;
  /** Simulation: the truth's expected recovery and P(cure) of the chosen treatment. */
  sim: Float64Array;
  simCure: Float64Array;
  /** IPW: weight × realised recovery / cure, where weight = 1[logged = chosen] / propensity. */
  ipw: Float64Array;
  ipwCure: Float64Array;
  /** Doubly robust: q̂(chosen) + weight × (realised − q̂(logged)). */
  dr: Float64Array;
  drCure: Float64Array;
  weight: Float64Array;
  segment: Uint8Array;
  bucket: Uint8Array;
  month: Uint16Array;
  wBin: Uint8Array;
  aBin: Uint8Array;
  account: Uint32Array;

  constructor(capacity = 1024) {
    this.cap = capacity;
    this.treatment = new Uint8Array(capacity);
    this.channel = new Uint8Array(capacity);
    this.expected = new Float64Array(capacity);
    this.cost = new Float64Array(capacity);
    this.sim = new Float64Array(capacity);
    this.simCure = new Float64Array(capacity);
    this.ipw = new Float64Array(capacity);
    this.ipwCure = new Float64Array(capacity);
    this.dr = new Float64Array(capacity);
    this.drCure = new Float64Array(capacity);
    this.weight = new Float64Array(capacity);
    this.segment = new Uint8Array(capacity);
    this.bucket = new Uint8Array(capacity);
    this.month = new Uint16Array(capacity);
    this.wBin = new Uint8Array(capacity);
    this.aBin = new Uint8Array(capacity);
    this.account = new Uint32Array(capacity);
  }

  /** Index of a new entry (growing the arrays as needed). */
  push(): number {
    if (this.n === this.cap) this.grow();
    return this.n++;
  }

  private grow(): void {
    this.cap *= 2;
    for (const k of Object.keys(this) as (keyof this)[]) {
      const a = this[k];
      if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
        const b = new (a.constructor as new (n: number) => typeof a & { set(x: unknown): void })(this.cap);
        b.set(a);
        this[k] = b as this[keyof this];
      }
    }
  }
}
