// Runs the setup of an example app with its own package.json and lock file, for the tests that
// build and run it: scripts/examples.mjs packs this checkout's build and installs it there.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));

/** `node <args>` in `cwd`; rejects with its output when it fails. */
export function node(args: string[], cwd: string, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Installs the example's dependencies (npm ci from the npm cache, once) and this build of rxjs-parallel. */
export function installExample(dir: string, timeout: number): Promise<string> {
  return node([`${repo}scripts/examples.mjs`, 'install', dir], repo, timeout);
}
