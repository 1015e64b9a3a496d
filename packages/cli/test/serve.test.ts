import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../src/cli-error';
import {
  isLoopback,
  resolveRequestPath,
  type StaticServer,
  serveCommand,
  startStaticServer,
} from '../src/commands/serve';
import { cli, tempDir } from './helpers';

const SECRET = 'top secret outside the site';

/** A site folder beside a secret file, with a link inside that points at the secret. */
function siteFolder(): { root: string; secret: string } {
  const dir = tempDir();
  const root = join(dir, 'site');
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>site</title>');
  writeFileSync(join(root, 'data', 'site.js'), 'x();');
  writeFileSync(join(root, '.hidden'), SECRET);
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, SECRET);
  symlinkSync(secret, join(root, 'link-out.txt'));
  symlinkSync(dir, join(root, 'dir-out'));
  return { root, secret };
}

/** A raw request: the path goes out exactly as given (fetch would normalise `..`). */
function raw(
  server: StaticServer,
  path: string,
  options: { method?: string; host?: string } = {},
): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${server.port}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let site: { root: string; secret: string };
let server: StaticServer;
beforeAll(async () => {
  site = siteFolder();
  server = await startStaticServer({ root: site.root, port: 0 });
});
afterAll(async () => {
  await server?.close();
});

describe('startStaticServer', () => {
  it('serves the files of the folder, index.html for a folder, on localhost', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const index = await fetch(server.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await index.text()).toContain('<title>site</title>');
    const data = await fetch(`${server.url}data/site.js?v=1`);
    expect([data.status, data.headers.get('content-type'), await data.text()]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'x();',
    ]);
    const head = await raw(server, '/data/site.js', { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
    expect((await raw(server, '/data/site.js', { method: 'POST' })).status).toBe(405);
    expect((await raw(server, '/nothing-here.js')).status).toBe(404);
  });

  it('never serves a file outside the folder', async () => {
    const attempts = [
      '/../secret.txt',
      '/../../../../etc/passwd',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/data/..%2f..%2fsecret.txt',
      '/data/%2e%2e/%2e%2e/secret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%00',
      '/index.html%00.js',
      '//etc/passwd',
      '/%2Fetc%2Fpasswd',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/.hidden',
      '/%E0%A4%A',
      'http://127.0.0.1/../secret.txt',
      '*',
    ];
    for (const path of attempts) {
      const response = await raw(server, path);
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain(SECRET);
    }
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const response = await raw(server, '/', { host: 'attacker.example:80' });
    expect(response.status).toBe(421);
    expect((await raw(server, '/', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('keeps the Host check on for every loopback address, and refuses to be framed', async () => {
    expect(['127.0.0.2', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '128.0.0.1', '127.example.com'].some(isLoopback)).toBe(false);
    const other = await startStaticServer({ root: site.root, port: 0, host: '127.0.0.2' });
    try {
      const get = (host: string) =>
        new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.2', port: other.port, path: '/', headers: { host } },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect((await get('attacker.example:80')).status).toBe(421);
      const ok = await get(`127.0.0.2:${other.port}`);
      expect(ok.status).toBe(200);
      expect(ok.headers['content-security-policy']).toBe("frame-ancestors 'none'");
      expect(ok.headers['x-frame-options']).toBe('DENY');
    } finally {
      await other.close();
    }
  });
});

describe('resolveRequestPath', () => {
  it('maps request paths to files inside the root only', async () => {
    const root = site.root;
    expect(await resolveRequestPath(root, '/')).toMatch(/site\/index\.html$/);
    expect(await resolveRequestPath(root, '/data/site.js')).toMatch(/site\/data\/site\.js$/);
    expect(await resolveRequestPath(root, '/data')).toBeUndefined();
    expect(await resolveRequestPath(root, '/../secret.txt')).toBeUndefined();
    expect(await resolveRequestPath(root, '/link-out.txt')).toBeUndefined();
  });
});

describe('neurodissect serve', () => {
  it('serves a site until stopped, printing its address', async () => {
    let stdout = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => t } };
    const stop = new AbortController();
    const running = serveCommand(site.root, { port: 0, host: '127.0.0.1' }, io, stop.signal);
    await expect
      .poll(() => stdout)
      .toMatch(/^Serving .*site at http:\/\/127\.0\.0\.1:\d+\/ \(press Ctrl-C to stop\)\n$/);
    const url = /(http:\S+)/.exec(stdout)![1];
    expect((await fetch(url)).status).toBe(200);
    stop.abort();
    await running;
    await expect(fetch(url)).rejects.toThrow();
  });

  it('says what to do when the folder is not a site or the port is taken', async () => {
    const empty = tempDir();
    const noSite = await cli('serve', empty);
    expect([noSite.code, noSite.stderr]).toEqual([
      2,
      `neurodissect: ${empty} has no index.html; build a site there first: neurodissect site --results r.json --out ${empty}\n`,
    ]);
    const missing = await cli('serve', join(empty, 'nope'));
    expect(missing.stderr).toMatch(/is not a folder; give the folder "neurodissect site --out" wrote\n$/);
    const badPort = await cli('serve', site.root, '--port', '70000');
    expect(badPort.stderr).toBe('neurodissect: --port: must be from 0 to 65535, got 70000\n');

    const io = { stdout: { write: (t: string) => t }, stderr: { write: (t: string) => t } };
    const taken = serveCommand(site.root, { port: server.port, host: '127.0.0.1' }, io, AbortSignal.abort());
    await expect(taken).rejects.toThrow(CliError);
    await expect(taken).rejects.toThrow(`--port: port ${server.port} is in use; choose another with --port`);
  });
});
