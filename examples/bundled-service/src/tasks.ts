// What the thread stage of src/main.ts runs: imported by each worker, by file and export name.
export function square(x: number): number {
  return x * x;
}
