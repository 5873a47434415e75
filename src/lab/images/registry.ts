// The built-in image implementations by name, loaded lazily so that a container starts by
// importing only the module it runs.
import type { Builtin } from './common.js';

export const BUILTINS: Record<string, () => Promise<Builtin>> = {
  starwars: async () => (await import('./starwars.js')).deathstar,
  'json-mock': async () => (await import('./starwars.js')).jsonMock,
  'http-echo': async () => (await import('./echo.js')).httpEcho,
  'ealen-echo-server': async () => (await import('./echo.js')).ealenEchoServer,
  'jmalloc-echo-server': async () => (await import('./echo.js')).jmallocEchoServer,
  agnhost: async () => (await import('./agnhost.js')).agnhost,
  nginx: async () => (await import('./web.js')).nginx,
  'nginx-unprivileged': async () => (await import('./web.js')).nginxUnprivileged,
  httpd: async () => (await import('./web.js')).httpd,
  httpbin: async () => (await import('./httpbin.js')).kennethreitzHttpbin,
  'go-httpbin': async () => (await import('./httpbin.js')).goHttpbin,
};

/**
 * Environment variable overriding the listen address of a built-in's main server,
 * "HOST:PORT" (either part may be empty: ":8080", "127.0.0.1:"). For tests.
 */
export const LISTEN_OVERRIDE_ENV = 'BEELINE_IMAGE_LISTEN';
