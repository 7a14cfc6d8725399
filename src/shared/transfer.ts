import { InvalidOptionError } from '../errors.js';

/**
 * What a transfer list may hold: `ArrayBuffer`s, typed arrays or `DataView`s (their buffer moves),
 * `MessagePort`s, and whatever else the platform can transfer (streams, `ImageBitmap`, ...).
 */
export type TransferListItem = ArrayBuffer | ArrayBufferView | object;

// One registry per realm, shared by every copy of the library loaded in it (ESM and CJS builds, the
// main entry and the worker entry): a value marked by one copy is sent by another.
const kRegistry = Symbol.for('rxjs-parallel.transfer');
const registry: WeakMap<object, TransferListItem[]> = ((globalThis as Record<symbol, unknown>)[kRegistry] ??=
  new WeakMap()) as WeakMap<object, TransferListItem[]>;

/**
 * Marks `value` so that, when it crosses to or from a worker thread, the buffers and ports in
 * `transferList` move instead of being copied: after sending, the sender's `ArrayBuffer` is detached
 * (`byteLength` 0). Returns `value` itself, so a marked value works unchanged on every scheduler;
 * the mark is used by the next send and then forgotten. On the process scheduler the value is
 * copied (child processes share no memory).
 *
 * ```ts
 * const pixels = new Uint8Array(1 << 20);
 * of(transfer({ pixels }, [pixels.buffer])).pipe(
 *   mapParallel(task(url, 'blur'), { scheduler: 'thread' }), // in the worker: return transfer(out, [out.buffer])
 * ).subscribe((out) => console.log(out.byteLength));
 * // 1048576 — and pixels.byteLength is now 0
 * ```
 * @param value An object (an element, or a result returned by a function in a worker).
 * @param transferList What to move: ArrayBuffers, typed arrays (their buffer), MessagePorts.
 * @returns `value`, marked.
 * @see threadScheduler
 */
export function transfer<T>(value: T, transferList: readonly TransferListItem[]): T {
  if (typeof value !== 'object' || value === null) {
    if (typeof value !== 'function') throw new InvalidOptionError('value', 'an object to mark for transfer (an element or a result)', value);
  }
  if (!Array.isArray(transferList)) throw new InvalidOptionError('transferList', 'an array of ArrayBuffers, typed arrays or MessagePorts', transferList);
  const list: TransferListItem[] = [];
  for (const item of transferList) {
    // A typed array is not transferable itself: its buffer is what moves.
    const it = ArrayBuffer.isView(item) ? item.buffer : item;
    if (!list.includes(it)) list.push(it);
  }
  registry.set(value as object, list);
  return value;
}

/** Marks `value` again with a list taken from it for a send that failed. @internal */
export function markTransferList(value: unknown, list: TransferListItem[]): void {
  registry.set(value as object, list);
}

/** The transfer list a value was marked with, forgotten once taken. @internal */
export function takeTransferList(value: unknown): TransferListItem[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const list = registry.get(value);
  if (list) registry.delete(value);
  return list;
}
