import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Plugin, build } from 'esbuild';

const root = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

/**
 * The SDK bundles the test pages load, straight from node_modules (never a CDN: the machine is
 * offline and the tests must exercise the versions in package-lock.json).
 */
const SDKS: Record<string, () => Promise<string>> = {
  '/sdk/auth0.js': () => readFile(root('node_modules/auth0-js/dist/auth0.min.js'), 'utf8'),
  '/sdk/auth0-spa-js.js': () => readFile(root('node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js'), 'utf8'),
  '/sdk/lock.js': () => lockBundle(),
};

let lock: Promise<string> | undefined;

/**
 * Lock does `require('auth0-js')`, which resolves to auth0-js's UMD file; auth0-js is a
 * `"type": "module"` package, so esbuild reads that file as ESM, where the UMD wrapper finds no
 * `module` and exports nothing. Lock is given auth0-js's own ESM build instead.
 */
const auth0jsAsEsm: Plugin = {
  name: 'auth0-js-esm',
  setup(b) {
    b.onResolve({ filter: /^auth0-js$/ }, () => ({ path: root('node_modules/auth0-js/dist/auth0.min.esm.js') }));
  },
};

/**
 * auth0-lock ships only CommonJS (`lib/`), so it is bundled once per process with esbuild into an
 * IIFE that sets `window.Auth0LockPasswordless`, as Auth0's CDN build does. The entry is esbuild's
 * `stdin` with `resolveDir` at the repository root, so node_modules resolves and no file is written.
 * It imports the package's main (`lib/index.js`), not `lib/passwordless.js` alone: Lock's modules
 * are circular, and only index.js's order defines `Core` before the passwordless class extends it
 * (else "Super expression must either be null or a function" at load).
 */
export function lockBundle(): Promise<string> {
  lock ??= build({
    stdin: { contents: "import { Auth0LockPasswordless } from 'auth0-lock';\nwindow.Auth0LockPasswordless = Auth0LockPasswordless;\n", resolveDir: root(''), loader: 'js', sourcefile: 'lock-entry.js' },
    bundle: true,
    format: 'iife',
    minify: true,
    write: false,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    plugins: [auth0jsAsEsm],
  }).then((r) => r.outputFiles[0]!.text);
  return lock;
}

export interface SpaServer {
  /** `http://127.0.0.1:<port>`: another site than Sesame's `https://localhost:<port>`. */
  origin: string;
  /** The URL of `test/browser/pages/<name>`. */
  page(name: string): string;
  close(): Promise<void>;
}

/**
 * A static site on 127.0.0.1 (port 0) for the single-page-app tests: the pages of
 * test/browser/pages and the SDK bundles under /sdk/. Everything is `no-store` so a test always
 * runs the page it wrote.
 */
export async function startSpaServer(): Promise<SpaServer> {
  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => send(res, 500, 'text/plain', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    page: (name) => `${origin}/pages/${name}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const sdk = SDKS[path];
  if (sdk) return send(res, 200, 'text/javascript; charset=utf-8', await sdk());
  const page = /^\/pages\/([a-z0-9-]+\.html)$/.exec(path)?.[1];
  if (page) {
    const html = await readFile(root(`test/browser/pages/${page}`), 'utf8').catch(() => undefined);
    if (html !== undefined) return send(res, 200, 'text/html; charset=utf-8', html);
  }
  if (path === '/favicon.ico') return send(res, 204, 'text/plain', '');
  send(res, 404, 'text/plain', `not found: ${path}`);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
