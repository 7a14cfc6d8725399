import type { BrowserContext } from 'playwright-core';

/** Flags verified with Debian's Chromium (156) on a headless CI box with no network beyond the registries. */
export declare const CHROMIUM_ARGS: readonly string[];
/** apt-get may have to fetch Chromium and its libraries: minutes on a cold CI box, 0 s after. */
export declare const SETUP_TIMEOUT: number;
/** Runs scripts/ensure-chromium.sh (installs Debian's chromium if missing) and returns its path. */
export declare function ensureChromium(): Promise<string>;
/** Launches Chromium with a fresh profile; `close()` also removes the profile. */
export declare function launchChromium(options?: { viewport?: { width: number; height: number } }): Promise<{ context: BrowserContext; close(): Promise<void> }>;
