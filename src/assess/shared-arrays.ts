/**
 * Typed arrays packed into one SharedArrayBuffer, so worker threads read them without a copy
 * each: the copy is made once, in the main thread, and every worker maps views over it.
 */
type Shareable = Float64Array | Float32Array | Int32Array | Uint8Array;
type Kind = 'f64' | 'f32' | 'i32' | 'u8';

function view(buffer: SharedArrayBuffer, kind: Kind, offset: number, length: number): Shareable {
  switch (kind) {
    case 'f64':
      return new Float64Array(buffer, offset, length);
    case 'f32':
      return new Float32Array(buffer, offset, length);
    case 'i32':
      return new Int32Array(buffer, offset, length);
    case 'u8':
      return new Uint8Array(buffer, offset, length);
  }
}

export interface SharedLayout {
  buffer: SharedArrayBuffer;
  /** name → kind, byte offset (8-aligned), element count. */
  entries: Array<{ name: string; kind: Kind; offset: number; length: number }>;
}

const kindOf = (a: Shareable): Kind =>
  a instanceof Float64Array ? 'f64' : a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';

/** One SharedArrayBuffer holding copies of `arrays`. */
export function shareArrays(arrays: Record<string, Shareable>): SharedLayout {
  const entries: SharedLayout['entries'] = [];
  let at = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries.push({ name, kind: kindOf(a), offset: at, length: a.length });
    at = (at + a.byteLength + 7) & ~7;
  }
  const buffer = new SharedArrayBuffer(Math.max(8, at));
  for (const e of entries) {
    view(buffer, e.kind, e.offset, e.length).set(arrays[e.name]);
  }
  return { buffer, entries };
}

/** Views over a shared layout, by name. */
export function viewShared(layout: SharedLayout): Record<string, Shareable> {
  const out: Record<string, Shareable> = {};
  for (const e of layout.entries) out[e.name] = view(layout.buffer, e.kind, e.offset, e.length);
  return out;
}
