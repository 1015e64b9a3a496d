import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Transform } from 'node:stream';
import { createBrotliCompress, createGzip, constants as zlibConstants } from 'node:zlib';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** The folder to serve; nothing outside it can be fetched. */
  root: string;
  /** @defaultValue 8080 (0 picks a free port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * Host names (or addresses) the server also answers to, besides the address it is bound to and
   * this machine's loopback names (and, bound to every address, this machine's own addresses).
   * Requests naming any other Host are refused (421), so that other web sites cannot reach it
   * through DNS rebinding. @defaultValue none
   */
  allowHosts?: readonly string[];
  /**
   * Send the cross-origin isolation headers (WebAssembly threads in the in-browser page).
   * @defaultValue true
   */
  crossOriginIsolation?: boolean;
}

/** A running static server. */
export interface StaticServer {
  /** The base URL, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
};

/** Whether an address is this machine's loopback (all of 127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Whether `path` is `root` or lies inside it. */
function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function send(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  response.end(`${text}\n`);
}

/**
 * The file a request path names inside `root` (a folder means its `index.html`), or undefined
 * when there is none or the path would leave the root: `..` segments (also percent-encoded), NUL
 * bytes, hidden files (`.git`), and symbolic links that point outside are all refused.
 */
export async function resolveRequestPath(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return undefined;
  let path = resolve(root, ...segments);
  if (!within(root, path)) return undefined;
  try {
    if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
    const real = await realpath(path);
    if (!within(await realpath(root), real) || !(await stat(real)).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/** Content types worth compressing (images are compressed already). */
const COMPRESSIBLE = /^(text\/|application\/(json|wasm)|image\/svg\+xml)/;

/**
 * The encoding to send a response in: brotli or gzip when the client accepts it (`q=0` refuses)
 * and the content is text, JSON, SVG or WebAssembly of at least 1 KB; undefined to send it as it is.
 */
export function negotiateCompression(
  acceptEncoding: string | undefined,
  contentType: string,
  size: number,
): 'br' | 'gzip' | undefined {
  if (size < 1024 || !COMPRESSIBLE.test(contentType) || acceptEncoding === undefined) return undefined;
  const accepted = new Set(
    acceptEncoding
      .split(',')
      .map((part) => part.trim().toLowerCase().split(';'))
      .filter(([, ...params]) => !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p)))
      .map(([name]) => name.trim()),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return undefined;
}

/** A stream that compresses in `encoding` (brotli at a quality that keeps serving quick). */
function compressor(encoding: 'br' | 'gzip', size: number): Transform {
  return encoding === 'br'
    ? createBrotliCompress({
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 5,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: size,
        },
      })
    : createGzip({ level: 6 });
}

/** Whether `host` means every address of the machine. */
function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The Host names a server bound to `host` answers to (lowercase, IPv6 in brackets, no port). */
function allowedHostNames(host: string, extra: readonly string[]): Set<string> {
  const bracket = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  if (!isWildcard(host)) names.add(bracket(host.toLowerCase()));
  else {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(bracket(address.address.toLowerCase()));
    }
  }
  for (const name of extra) names.add(bracket(name.toLowerCase()));
  return names;
}

/** Whether a Host header names this server: an allowed name with its port (defends against DNS rebinding). */
function hostAllowed(header: string | undefined, names: ReadonlySet<string>, port: number): boolean {
  if (header === undefined) return false;
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(header.toLowerCase());
  if (!match) return false;
  const given = match[2] === undefined ? 80 : Number(match[2]);
  return given === port && names.has(match[1]);
}

/**
 * Serves the files of one folder over HTTP (GET and HEAD only), cross-origin isolated (COOP
 * `same-origin`, COEP `credentialless`) so pages can use WebAssembly threads. Whatever address it is bound
 * to, it refuses requests whose Host header names another server than itself (its address, the
 * loopback names, {@link StaticServerOptions.allowHosts}), so other web sites cannot reach it
 * through DNS rebinding.
 */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(options.root);
  const host = options.host ?? '127.0.0.1';
  const names = allowedHostNames(host, options.allowHosts ?? []);
  let port = options.port ?? 8080;

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        send(response, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
        return;
      }
      if (!hostAllowed(request.headers.host, names, port)) {
        send(
          response,
          421,
          'Misdirected request: this server answers only to its own address (neurodissect serve --allow-host NAME adds a name)',
        );
        return;
      }
      const target = request.url ?? '/';
      const queryAt = target.search(/[?#]/);
      const urlPath = queryAt === -1 ? target : target.slice(0, queryAt);
      const file = urlPath.startsWith('/') ? await resolveRequestPath(root, urlPath) : undefined;
      if (file === undefined) {
        send(response, 404, 'Not found');
        return;
      }
      const size = (await stat(file)).size;
      const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const encoding = negotiateCompression(request.headers['accept-encoding'], contentType, size);
      response.writeHead(200, {
        'Content-Type': contentType,
        ...(encoding === undefined
          ? { 'Content-Length': String(size) }
          : { 'Content-Encoding': encoding, Vary: 'Accept-Encoding' }),
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        // The page's own CSP is a meta tag (it travels with the site); framing can only be
        // refused by a header.
        'Content-Security-Policy': "frame-ancestors 'none'",
        'X-Frame-Options': 'DENY',
        // Cross-origin isolation, so the "Dissect in your browser" page can use WebAssembly
        // threads; `credentialless` still lets the site show images from other origins.
        ...(options.crossOriginIsolation === false
          ? {}
          : {
              'Cross-Origin-Opener-Policy': 'same-origin',
              'Cross-Origin-Embedder-Policy': 'credentialless',
            }),
      });
      if (request.method === 'HEAD') {
        response.end();
        return;
      }
      const body = createReadStream(file).on('error', () => response.destroy());
      if (encoding === undefined) body.pipe(response);
      else
        body
          .pipe(compressor(encoding, size))
          .on('error', () => response.destroy())
          .pipe(response);
    })().catch(() => {
      if (!response.headersSent) send(response, 500, 'Internal error');
      else response.destroy();
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

/** Options of `neurodissect serve`, as parsed. */
export interface ServeCommandOptions {
  port: number;
  host: string;
  /** More Host names to answer to (`--allow-host`, repeatable). */
  allowHost?: string[];
}

/** `neurodissect serve DIR`: serves a built site until `stop` is aborted. */
export async function serveCommand(
  dir: string,
  o: ServeCommandOptions,
  io: CliIo,
  stop: AbortSignal,
): Promise<void> {
  if (o.port < 0 || o.port > 65535) throw new CliError(`--port: must be from 0 to 65535, got ${o.port}`);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new CliError(`${dir} is not a folder; give the folder "neurodissect site --out" wrote`);
  if (!(await stat(join(dir, 'index.html')).catch(() => undefined))?.isFile()) {
    throw new CliError(
      `${dir} has no index.html; build a site there first: neurodissect site --results r.json --out ${dir}`,
    );
  }
  let server: StaticServer;
  try {
    server = await startStaticServer({
      root: dir,
      port: o.port,
      host: o.host,
      allowHosts: o.allowHost ?? [],
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`--port: port ${o.port} is in use; choose another with --port`);
    if (code === 'EADDRNOTAVAIL')
      throw new CliError(
        `--host: cannot listen on ${o.host}; give an address of this machine, e.g. 127.0.0.1`,
      );
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME')
      throw new CliError(
        `--host: cannot resolve ${o.host} (${code}); give an address of this machine, e.g. 127.0.0.1`,
      );
    if (code === 'EACCES')
      throw new CliError(`--port: not allowed to listen on port ${o.port}; choose one above 1023`);
    throw error;
  }
  if (!isLoopback(o.host)) {
    io.stderr.write(
      `neurodissect: serving on ${o.host}: anyone who can reach this address can read the site (it answers only to requests naming this machine's addresses${o.allowHost?.length ? ` or ${o.allowHost.join(', ')}` : ''}; --allow-host NAME adds a name)\n`,
    );
  }
  io.stdout.write(`Serving ${dir} at ${server.url} (press Ctrl-C to stop)\n`);
  if (!stop.aborted)
    await new Promise<void>((done) => stop.addEventListener('abort', () => done(), { once: true }));
  await server.close();
}

/** Adds `serve` to the program. */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description(
      'Serve a site built by "neurodissect site" over HTTP (only files inside DIR; localhost by default).',
    )
    .argument('<dir>', 'the site folder')
    .option('--port <n>', 'the port to listen on (0 picks a free one)', integer, 8080)
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option(
      '--allow-host <name>',
      "also answer requests that name this host (repeatable; the bound address and localhost always are): e.g. the machine's DNS name",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (dir: string, options: ServeCommandOptions) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await serveCommand(dir, options, io, stop.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
