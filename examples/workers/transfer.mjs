import { mapParallel, task, transfer } from 'rxjs-parallel';
import { lastValueFrom, of } from 'rxjs';

// blur (in tasks.mjs) returns transfer(out, [out.buffer]): the result moves back too.
const blur = task(new URL('./tasks.mjs', import.meta.url), 'blur');
const frame = new Uint8Array(1920 * 1080 * 4).fill(9);
const out = await lastValueFrom(of(transfer({ frame }, [frame.buffer])).pipe(mapParallel(blur, { scheduler: 'thread' })));
console.log(frame.byteLength, out.byteLength, out[0]);
// 0 8294400 9 (one per line)
