// Headless Chromium for the browser tests (the launcher is shared with scripts/report-screenshot.mjs).
export { CHROMIUM_ARGS, ensureChromium, launchChromium, SETUP_TIMEOUT } from '../../scripts/chromium.mjs';

/** Skips the browser tests when RXP_SKIP_BROWSER=1 says so. */
export const skipBrowser = process.env.RXP_SKIP_BROWSER === '1';

/** The same bound, by the name the Angular test uses. */
export { SETUP_TIMEOUT as CHROMIUM_SETUP_TIMEOUT } from '../../scripts/chromium.mjs';
