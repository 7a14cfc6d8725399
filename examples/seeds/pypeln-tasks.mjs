// Functions the pypeln port's worker processes import by name (task(url, exportName)): the
// resources of pypeln's "Resource Management" section. A worker process prints to the same stdout.

let sessions = 0;

// on_start: runs once per worker, inside it; what it returns is that worker's ctx.resources.
export function onStart(ctx) {
  return { httpSession: { id: `http-${ctx.workerInfo.index}`, open: true }, dbSession: { id: `db-${ctx.workerInfo.index}`, open: true, n: ++sessions } };
}

// f: uses the resources of the worker that runs it.
export function f(x, ctx) {
  const { httpSession, dbSession } = ctx.resources;
  if (!httpSession.open || !dbSession.open) throw new Error('session closed');
  return x * 10;
}

// on_end: once per worker when it ends, whatever the reason; sees the resources and stage_status.
export function onEnd(ctx) {
  ctx.resources.httpSession.open = false;
  ctx.resources.dbSession.open = false;
  console.log(`on_end: worker ${ctx.workerInfo.index} closed ${ctx.resources.httpSession.id} and ${ctx.resources.dbSession.id} (stage_status.done: ${ctx.stageStatus.done})`);
}
