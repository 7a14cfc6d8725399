// `instanceof` across copies of the library: its CommonJS and ES module builds in one process (the
// dual-package hazard), and two installs of it.
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esm from 'rxjs-parallel';
import { installCopy, ownBuild } from '../support/package-copy.js';
import { runNode } from '../support/util.js';

type Library = typeof esm;
const cjs: Library = createRequire(import.meta.url)('../../dist/cjs/index.js');

/** One instance of every concrete error class the package exports, made by `lib`. */
const instances = (lib: Library) => ({
  TaskTimeoutError: new lib.TaskTimeoutError('stage', [0], 10),
  WorkerCrashedError: new lib.WorkerCrashedError({ workerId: 0, exitCode: 1 }),
  WorkerFunctionError: new lib.WorkerFunctionError('fn', 'why'),
  UncloneableValueError: new lib.UncloneableValueError('stage', [0], 'element'),
  BufferOverflowError: new lib.BufferOverflowError('stage', 4),
  StageError: new lib.StageError('stage', 'fn', [0], new Error('cause')),
  InvalidOptionError: new lib.InvalidOptionError('workers', 'an integer ≥ 1', 0),
  OrderingError: new lib.OrderingError('ordered() ← an Observable', 'nothing to reorder'),
});
type Name = keyof ReturnType<typeof instances>;

describe('error classes across the CommonJS and ES module builds', () => {
  it('the two builds are distinct copies (else this test proves nothing)', () => {
    expect(cjs.StageError).not.toBe(esm.StageError);
  });

  it('covers every error class the package exports', () => {
    const exported = Object.entries(esm)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual(['ParallelError', ...Object.keys(instances(esm))].sort());
  });

  for (const [from, to, madeBy, checkedBy] of [
    ['CommonJS', 'ESM', cjs, esm],
    ['ESM', 'CommonJS', esm, cjs],
  ] as const) {
    it(`an error made by the ${from} build is instanceof its class, ParallelError and Error of the ${to} build, and of no other class`, () => {
      const made = instances(madeBy);
      for (const name of Object.keys(made) as Name[]) {
        const error = made[name];
        expect(error instanceof checkedBy[name], `${name} instanceof ${name}`).toBe(true);
        expect(error instanceof checkedBy.ParallelError, `${name} instanceof ParallelError`).toBe(true);
        expect(error instanceof Error).toBe(true);
        for (const other of Object.keys(made) as Name[]) {
          if (other !== name) expect(error instanceof checkedBy[other], `${name} instanceof ${other}`).toBe(false);
        }
      }
    });
  }

  it('a class of your own extending one is checked by its prototype chain only', () => {
    class DatabaseStageError extends esm.StageError {}
    const foreign = new cjs.StageError('stage', 'fn', [0], 1);
    const own = new DatabaseStageError('stage', 'fn', [0], 1);
    expect(foreign instanceof DatabaseStageError).toBe(false);
    expect(own instanceof DatabaseStageError).toBe(true);
    expect(own instanceof cjs.StageError).toBe(true);
    expect(own instanceof cjs.TaskTimeoutError).toBe(false);
  });

  it('instanceof still narrows in TypeScript (checked by tsc -p test/tsconfig.json)', () => {
    const caught: unknown = new cjs.TaskTimeoutError('stage', [0], 10);
    if (caught instanceof esm.TaskTimeoutError) expectTypeOf(caught.timeout).toEqualTypeOf<number>();
    if (caught instanceof esm.ParallelError) expectTypeOf(caught.code).toEqualTypeOf<string>();
    const either = caught as esm.StageError | esm.TaskTimeoutError;
    if (either instanceof esm.StageError) expectTypeOf(either).toEqualTypeOf<esm.StageError>();
    else expectTypeOf(either).toEqualTypeOf<esm.TaskTimeoutError>();
    expect(caught instanceof esm.TaskTimeoutError).toBe(true);
  });

  it('things that are not errors are instanceof none of them', () => {
    for (const value of [null, undefined, 0, 'StageError', {}, new Error('x'), Object.create(null)]) {
      expect(value instanceof esm.ParallelError).toBe(false);
      expect(value instanceof esm.StageError).toBe(false);
    }
  });
});

describe('errors of pipelines', () => {
  it("built through require('rxjs-parallel') are instanceof the classes imported through import, in plain Node", async () => {
    const { code, stdout, stderr } = await runNode(new URL('../fixtures/error-copies.mjs', import.meta.url), ['dual']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  describe('built by a second install of the package', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'rxjs-parallel-copy-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('are instanceof the classes of the first', async () => {
      const { code, stdout, stderr } = await runNode(new URL('../fixtures/error-copies.mjs', import.meta.url), [installCopy(dir), ownBuild]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual(expected);
    });
  });
});

/** What test/fixtures/error-copies.mjs reports for each failure: instanceof its class, of ParallelError, of another class. */
const expected = Object.fromEntries(
  ['StageError', 'TaskTimeoutError', 'WorkerFunctionError', 'InvalidOptionError', 'WorkerCrashedError'].map((name) => [
    name,
    { distinct: true, own: true, base: true, other: false },
  ]),
);
