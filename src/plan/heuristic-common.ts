/**
 * Pieces shared by the greedy + swap heuristics: a seeded PRNG, a lazy-greedy (CELF) selector in
 * typed arrays, filtered forward / inverse pair lists and the input checks.
 */
import type { PlanInstance } from './instance.js';

export { mulberry32 } from './random.js';
export { checkCapacity, checkModel as checkModelInput } from './instance.js';

/** Fisher–Yates shuffle of a copy. */
export function shuffled(values: Int32Array, random: () => number): Int32Array {
  const out = values.slice();
  for (let k = out.length - 1; k > 0; k--) {
    const r = Math.floor(random() * (k + 1));
    const t = out[k];
    out[k] = out[r];
    out[r] = t;
  }
  return out;
}

/** rank[c] = position of candidate c in a seeded random order (ties go to the lower rank); −1 for fixed. */
export function seededRanks(n: number, free: Int32Array, random: () => number): { rank: Int32Array; order: Int32Array } {
  const order = shuffled(free, random);
  const rank = new Int32Array(n).fill(-1);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  return { rank, order };
}

/**
 * Lazy greedy (CELF): for gains that only decrease as sites are added, a candidate whose gain was
 * recomputed this round and still tops the heap is the best one, so most candidates are never
 * re-evaluated. Ties go to the lower rank (the seeded order).
 */
export class LazyGreedy {
  private readonly heap: Int32Array;
  private size: number;
  private readonly key: Float64Array;
  private readonly stamp: Int32Array;
  private round = 0;

  constructor(
    n: number,
    candidates: Int32Array,
    private readonly rank: Int32Array,
    private readonly gainOf: (c: number) => number,
    /** optional cheap lower bound on the gain: a stale top whose bound beats every other key is taken without its exact gain. */
    private readonly lowerBound?: (c: number) => number,
  ) {
    this.key = new Float64Array(n);
    this.stamp = new Int32Array(n);
    this.heap = candidates.slice();
    this.size = candidates.length;
    for (let x = 0; x < this.size; x++) this.key[this.heap[x]] = gainOf(this.heap[x]);
    for (let x = (this.size >> 1) - 1; x >= 0; x--) this.siftDown(x);
  }

  get remaining(): number {
    return this.size;
  }

  /** Remove and return the candidate with the largest current gain (−1 when none is left); call `next` again after committing it. */
  next(): { site: number; gain: number } {
    while (this.size > 0) {
      const top = this.heap[0];
      if (this.stamp[top] === this.round) {
        const gain = this.key[top];
        this.size--;
        this.heap[0] = this.heap[this.size];
        this.siftDown(0);
        this.round++;
        return { site: top, gain };
      }
      if (this.lowerBound && this.size > 1) {
        const lb = this.lowerBound(top);
        const other = this.size > 2 && this.better(this.heap[2], this.heap[1]) ? this.heap[2] : this.heap[1];
        if (lb >= this.key[other]) {
          this.key[top] = lb;
          this.stamp[top] = this.round;
          continue;
        }
      }
      this.key[top] = this.gainOf(top);
      this.stamp[top] = this.round;
      this.siftDown(0);
    }
    return { site: -1, gain: 0 };
  }

  private better(a: number, b: number): boolean {
    const ka = this.key[a];
    const kb = this.key[b];
    return ka > kb || (ka === kb && this.rank[a] < this.rank[b]);
  }

  private siftDown(x: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * x + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const c = r < this.size && this.better(h[r], h[l]) ? r : l;
      if (!this.better(h[c], h[x])) return;
      const t = h[c];
      h[c] = h[x];
      h[x] = t;
      x = c;
    }
  }
}

/**
 * A subset of the instance's candidate → demand pairs as forward CSR (per candidate) plus its
 * inverse (per demand), both in typed arrays. `kept[k]` = 1 keeps the instance's pair k. With
 * `nearestFirst`, each inverse row is sorted by seconds so scans for "candidates within t" can stop
 * early (it costs a sort: worth it only when such scans stop short of the row's end).
 */
export interface PairLists {
  fStart: Int32Array;
  fDemand: Int32Array;
  fSeconds: Float32Array;
  iStart: Int32Array;
  iCand: Int32Array;
  iSeconds: Float32Array;
  /** for each inverse entry, its index in the forward arrays. */
  iPos: Int32Array;
}

export function buildPairLists(inst: PlanInstance, kept: Uint8Array, nearestFirst: boolean): PairLists {
  const n = inst.candidateCount;
  const m = inst.demandCount;
  const start = inst.start;
  const demandOf = inst.demand;
  const secondsOf = inst.seconds;
  const fStart = new Int32Array(n + 1);
  let count = 0;
  for (let j = 0; j < n; j++) {
    for (let k = start[j]; k < start[j + 1]; k++) count += kept[k];
    fStart[j + 1] = count;
  }
  const fDemand = new Int32Array(count);
  const fSeconds = new Float32Array(count);
  const iStart = new Int32Array(m + 1);
  const total = start[n];
  let f = 0;
  for (let k = 0; k < total; k++) {
    if (!kept[k]) continue;
    const i = demandOf[k];
    fDemand[f] = i;
    fSeconds[f] = secondsOf[k];
    iStart[i + 1]++;
    f++;
  }
  for (let i = 0; i < m; i++) iStart[i + 1] += iStart[i];
  const fill = iStart.slice(0, m);
  const iCand = new Int32Array(count);
  const iSeconds = new Float32Array(count);
  const iPos = new Int32Array(count);
  if (nearestFirst) {
    const fCand = new Int32Array(count);
    for (let j = 0; j < n; j++) fCand.fill(j, fStart[j], fStart[j + 1]);
    // forward pairs in ascending seconds, so that filling the inverse rows leaves each one sorted
    const bySeconds = radixOrder(fSeconds);
    for (let r = 0; r < count; r++) {
      const q = bySeconds[r];
      const x = fill[fDemand[q]]++;
      iCand[x] = fCand[q];
      iSeconds[x] = fSeconds[q];
      iPos[x] = q;
    }
  } else {
    for (let j = 0; j < n; j++) {
      for (let q = fStart[j]; q < fStart[j + 1]; q++) {
        const x = fill[fDemand[q]]++;
        iCand[x] = j;
        iSeconds[x] = fSeconds[q];
        iPos[x] = q;
      }
    }
  }
  return { fStart, fDemand, fSeconds, iStart, iCand, iSeconds, iPos };
}

/**
 * Indices of non-negative float32 values in ascending order (stable): the bit patterns of
 * non-negative floats sort like unsigned integers, so two 16-bit counting passes do it.
 */
export function radixOrder(values: Float32Array): Int32Array {
  const count = values.length;
  const keys = new Uint32Array(values.buffer, values.byteOffset, count);
  const low = new Int32Array(65537);
  const high = new Int32Array(65537);
  for (let x = 0; x < count; x++) {
    // & 0x7fffffff: −0 sorts as 0
    const k = keys[x] & 0x7fffffff;
    low[(k & 0xffff) + 1]++;
    high[(k >>> 16) + 1]++;
  }
  for (let b = 0; b < 65536; b++) {
    low[b + 1] += low[b];
    high[b + 1] += high[b];
  }
  const tmp = new Int32Array(count);
  for (let x = 0; x < count; x++) tmp[low[keys[x] & 0xffff]++] = x;
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const x = tmp[r];
    out[high[(keys[x] & 0x7fffffff) >>> 16]++] = x;
  }
  return out;
}

