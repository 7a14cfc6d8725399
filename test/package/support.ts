// Helpers of the package tests: child commands with npm's own environment left out, temporary
// directories, and the table of entries (scripts/entries.mjs).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Entry {
  path: string;
  src: string;
  peers?: string[];
}
export interface EntryTable {
  ENTRIES: Entry[];
  BINS: Record<string, string>;
  FILES: Record<string, string>;
  specifier(name: string, entry: Entry): string;
}

/** scripts/entries.mjs: every public entry, command and file of the package. */
export const entryTable = (): Promise<EntryTable> => import(pathToFileURL(join(root, 'scripts/entries.mjs')).href);

/**
 * The environment for a child npm or node: this one without the `npm_*` variables that `npm test`
 * sets for its own package (a child npm would read them as its own configuration).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) || /^npm_config_cache$/i.test(key)) env[key] = value;
  return { ...env, ...extra };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output whatever the code (the test judges). */
export function run(command: string, args: string[], cwd: string, env = childEnv()): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** As {@link run}, but fails with the command's output unless it exits with 0. */
export async function ok(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await run(command, args, cwd, env);
  if (ran.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** npm install, from the local cache where it can be (`--prefer-offline`), quietly. */
export const npmInstall = (cwd: string, specs: string[], extra: string[] = []) =>
  ok(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...extra, ...specs], cwd);

/** A fresh temporary directory, and its removal. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `rxjs-parallel-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
