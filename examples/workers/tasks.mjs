// Functions that worker threads and processes import by name, with task(moduleUrl, exportName).
import { transfer } from 'rxjs-parallel/worker';

export function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

// onStart: runs once per worker, in the worker; what it returns stays there as ctx.resources.
export const openTable = () => ({ names: ['zero', 'one', 'two', 'three'] });

export const name = (n, ctx) => ctx.resources.names[n];

// A stand-in for image work: a copy of the frame, moved back to the main thread, not copied.
export function blur({ frame }) {
  const out = new Uint8Array(frame);
  return transfer(out, [out.buffer]);
}
