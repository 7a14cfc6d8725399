import { cpSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Lays a second copy of the built package out in `dir` as an install would put it
 * (`dir/node_modules/rxjs-parallel`: package.json and dist/), its dependencies linked from this
 * repository's node_modules and nothing else beside it (no tsx). Returns the URL of its ESM entry.
 */
export function installCopy(dir: string): string {
  const modules = join(dir, 'node_modules');
  const copy = join(modules, 'rxjs-parallel');
  mkdirSync(copy, { recursive: true });
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
  cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
  for (const dependency of ['rxjs', 'rxjs-for-await']) {
    symlinkSync(realpathSync(join(root, 'node_modules', dependency)), join(modules, dependency), 'dir');
  }
  return pathToFileURL(join(copy, 'dist/esm/index.js')).href;
}

/** The URL of this repository's own ESM build. */
export const ownBuild = pathToFileURL(join(root, 'dist/esm/index.js')).href;
