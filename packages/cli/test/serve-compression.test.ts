import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateCompression, type StaticServer, startStaticServer } from '../src/commands/serve';
import { tempDir } from './helpers';

let server: StaticServer;
let big: string;
beforeAll(async () => {
  const root = tempDir();
  // Site data repeats itself a lot, as a layer's JSON does.
  big = `__neurodissectSiteData("layer-0",${JSON.stringify(
    Array.from({ length: 2000 }, (_, unit) => ({ unit, labels: [{ label: 'striped', score: 0.25 }] })),
  )});\n`;
  writeFileSync(join(root, 'layer-0.js'), big);
  writeFileSync(join(root, 'small.js'), 'x();');
  writeFileSync(join(root, 'photo.png'), Buffer.alloc(4096, 7));
  server = await startStaticServer({ root, port: 0 });
});
afterAll(async () => {
  await server?.close();
});

function get(
  path: string,
  acceptEncoding?: string,
): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        headers: {
          host: `127.0.0.1:${server.port}`,
          ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('serve compresses what it sends', () => {
  it('sends brotli or gzip to a client that accepts it, the same bytes once decompressed', async () => {
    const br = await get('/layer-0.js', 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.body.length).toBeLessThan(big.length / 10);
    expect(brotliDecompressSync(br.body).toString('utf8')).toBe(big);
    const gzip = await get('/layer-0.js', 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).toString('utf8')).toBe(big);
  });

  it('sends as it is without Accept-Encoding, for small files and for images', async () => {
    const plain = await get('/layer-0.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(Buffer.byteLength(big)));
    expect(plain.body.toString('utf8')).toBe(big);
    expect((await get('/small.js', 'br')).headers['content-encoding']).toBeUndefined();
    expect((await get('/photo.png', 'br')).headers['content-encoding']).toBeUndefined();
  });

  it('honours q=0 and wildcards', () => {
    const js = 'text/javascript; charset=utf-8';
    expect(negotiateCompression('br;q=0, gzip', js, 5000)).toBe('gzip');
    expect(negotiateCompression('br;q=0.0, gzip;q=0', js, 5000)).toBeUndefined();
    expect(negotiateCompression('*', js, 5000)).toBe('gzip');
    expect(negotiateCompression('identity', js, 5000)).toBeUndefined();
    expect(negotiateCompression('br', 'application/wasm', 5000)).toBe('br');
  });
});
