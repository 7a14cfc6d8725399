import { RenderMode, type ServerRoute } from '@angular/ssr';

// Rendered once, at build time, on the server (Node): there is no Worker there.
export const serverRoutes: ServerRoute[] = [{ path: '**', renderMode: RenderMode.Prerender }];
