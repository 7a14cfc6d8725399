import { fromIterable, mapParallel, filterParallel, toAsyncIterable } from 'rxjs-parallel';

const fetchUser = async (id) => ({ id, active: id % 3 !== 0 }); // stands in for an I/O call

const users$ = fromIterable(Array.from({ length: 10 }, (_, id) => id)).pipe(
  mapParallel(fetchUser, { workers: 4 }), // 4 calls in flight, a bounded queue before them
  filterParallel((user) => user.active, { workers: 2, ordered: true }), // source order
);

for await (const user of toAsyncIterable(users$)) console.log(user.id);
// 1 2 4 5 7 8 (one per line)
