// Functions that worker threads and processes import by name, with task(moduleUrl, exportName).
export function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

// onStart: runs once per worker, in the worker; what it returns stays there as ctx.resources.
export const openTable = () => ({ names: ['zero', 'one', 'two', 'three'] });

export const name = (n, ctx) => ctx.resources.names[n];
