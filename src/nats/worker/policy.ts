/**
 * Which functions a NATS worker runs: the exports of the modules it was started with, and source
 * text only when it was started with `--allow-source`. A TaskRef names a module by the URL it has
 * on the producer's host; on a worker where the same file sits at another path, it is found by its
 * file name, when exactly one served module has that name.
 * @internal
 * @module
 */
import type { WireFunction, WireWork } from '../../worker/protocol.js';

/** What a worker thread is told to serve. */
export interface ServePolicy {
  /** `file:` URLs of the served modules. */
  readonly modules: readonly string[];
  /** Run functions sent as source text (trusted networks only). */
  readonly allowSource: boolean;
}

/** Why a function is refused, as the producer will read it (inside a WorkerFunctionError). */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

const fileName = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/**
 * The work with every module URL replaced by the served module it names, or the role and the
 * reason it is refused.
 */
export function admit(work: WireWork, policy: ServePolicy): { work: WireWork } | { role: 'fn' | 'onStart' | 'onEnd'; error: RefusedError } {
  const out: Record<string, unknown> = { ...work };
  for (const role of ['fn', 'onStart', 'onEnd'] as const) {
    const wire = work[role];
    if (wire === undefined) continue;
    const admitted = admitFunction(wire, policy);
    if (admitted instanceof RefusedError) return { role, error: admitted };
    out[role] = admitted;
  }
  return { work: out as unknown as WireWork };
}

function admitFunction(wire: WireFunction, policy: ServePolicy): WireFunction | RefusedError {
  if (wire.source !== undefined) {
    return policy.allowSource
      ? wire
      : new RefusedError(
          'this worker does not run functions sent as source text; name a function of a module it serves with ' +
            "task(url, 'export'), or start the worker with --allow-source (trusted networks only)",
        );
  }
  if (wire.module === undefined) return wire; // a name registered by expose() in a served module: only those exist there
  if (policy.modules.includes(wire.module)) return wire;
  const name = fileName(wire.module);
  const same = policy.modules.filter((url) => fileName(url) === name);
  if (same.length === 1) return { module: same[0], exportName: wire.exportName };
  return new RefusedError(
    `${wire.module} is not a module this worker serves` +
      (same.length > 1 ? ` (several served modules are named ${name}: name the exact path)` : '') +
      ` (it serves ${policy.modules.join(', ') || 'none'})`,
  );
}
