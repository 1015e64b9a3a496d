import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { writeToyWorld } from '@neurodissect/toyworld/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { startStaticServer } from '../src/commands/serve';
import { cli, tempDir } from './helpers';

// The catalogue's confinement cases (5 of the issue): nothing outside the folders given is read,
// thumbnailed, served to other host names or fetched from other servers, and the messages a
// Results document keeps name no folder of the machine.
const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
const clip = join(fixtures, 'clip/clip-openclip');

describe('probe sets stay inside their folder', () => {
  it('dissect refuses a Broden index row that climbs out of the folder, in one line naming the row', async () => {
    const work = tempDir();
    const world = join(work, 'world');
    await writeToyWorld(world, { seed: 0, count: 3, size: 32 });
    const index = readFileSync(join(world, 'index.csv'), 'utf8').split('\n');
    index[1] = index[1].replace(/^[^,]*/, '../../../../etc/passwd');
    writeFileSync(join(world, 'index.csv'), index.join('\n'));
    writeFileSync(join(work, 'concepts.txt'), 'red\nblue\n');
    const out = join(work, 'results.json');
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer1',
      '--probe',
      `broden:${world}`,
      '--concepts',
      join(work, 'concepts.txt'),
      '--labelers',
      'broden-label',
      '--out',
      out,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `neurodissect: --probe: ${join(world, 'index.csv')} line 2 names ../../../../etc/passwd, which is outside the probe folder ${world}; a probe set may only name files inside its folder.\n`,
    );
  });

  it('dissect notes an image link that leads out of the probe folder, reads the others, and stores messages with relative paths', {
    timeout: 60_000,
  }, async () => {
    const work = tempDir();
    const probe = join(work, 'probe');
    mkdirSync(join(probe, 'more'), { recursive: true });
    copyFileSync(join(fixtures, 'preprocess', 'brick.png'), join(probe, 'brick.png'));
    copyFileSync(join(fixtures, 'preprocess', 'coffee.png'), join(probe, 'more', 'coffee.png'));
    symlinkSync(join(probe, 'more'), join(probe, 'linked'));
    writeFileSync(join(work, 'private.png'), readFileSync(join(fixtures, 'preprocess', 'coffee.png')));
    symlinkSync(join(work, 'private.png'), join(probe, 'leak.png'));
    writeFileSync(join(probe, 'broken.png'), 'not a png');
    writeFileSync(join(work, 'concepts.txt'), 'brick\ncoffee\n');
    const out = join(work, 'out', 'results.json');
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--clip',
      clip,
      '--layers',
      'layer1',
      '--probe',
      probe,
      '--concepts',
      join(work, 'concepts.txt'),
      '--top-k',
      '2',
      '--null',
      '0',
      '--held-out',
      '0',
      '--out',
      out,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `note: Skipped leak.png: it is a symbolic link that leads outside the probe folder (to ${join(work, 'private.png')}).`,
    );
    const results = parseResults(readFileSync(out, 'utf8'));
    expect(results.probe.images.map((i) => i.id)).toEqual([
      'brick.png',
      'linked/coffee.png',
      'more/coffee.png',
    ]);
    expect(results.failures).toEqual([
      expect.objectContaining({
        stage: 'read-image',
        message: expect.stringContaining('../probe/broken.png'),
      }),
    ]);
    expect(JSON.stringify(results)).not.toContain(work);
  });
});

describe('site', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureAppBundle();
    dir = tempDir();
    const imageRoot = join(dir, 'probe');
    mkdirSync(imageRoot);
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3030c0' } })
      .png()
      .toFile(join(imageRoot, 'inside.png'));
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c03030' } })
      .png()
      .toFile(join(dir, 'private.png'));
    symlinkSync(join(dir, 'private.png'), join(imageRoot, 'leak.png'));
    symlinkSync(join(imageRoot, 'inside.png'), join(imageRoot, 'alias.png'));
    const results = resultsFixture({
      images: [
        { id: 'inside', uri: 'inside.png' },
        { id: 'leak', uri: 'leak.png' },
        { id: 'alias', uri: 'alias.png' },
        { id: 'pixel', uri: 'https://tracker.example/pixel.png' },
      ],
      layers: [
        {
          name: 'layer1',
          neurons: [
            {
              unit: 0,
              topImages: [{ image: 0 }, { image: 1 }, { image: 2 }, { image: 3 }],
              labels: { 'clip-dissect': [{ label: 'dog', score: 0.2 }] },
            },
          ],
        },
      ],
    });
    writeFileSync(join(dir, 'r.json'), JSON.stringify(results));
  }, 120_000);
  const siteData = (out: string) =>
    readdirSync(join(out, 'data'))
      .map((f) => readFileSync(join(out, 'data', f), 'utf8'))
      .join('\n');

  it('thumbnails only files inside --image-root (a link out of it is a placeholder), and no remote image without --allow-remote-images', async () => {
    const out = join(dir, 'site');
    const result = await cli(
      'site',
      '--results',
      join(dir, 'r.json'),
      '--image-root',
      join(dir, 'probe'),
      '--out',
      out,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(
      'note: 1 image(s) of the Results are on other servers (e.g. https://tracker.example/pixel.png); they are shown as placeholders: add --allow-remote-images to show them (their servers then see every visit)\n',
    );
    expect(result.stdout).toMatch(/4 image\(s\) \(2 with thumbnails, 2 shown as placeholders\)/);
    expect(result.stdout).toMatch(
      /placeholders, e\.g\. (leak\.png: .*it leads outside --image-root|https:\/\/tracker\.example\/pixel\.png: on another server \(--allow-remote-images shows it\))/,
    );
    expect(siteData(out)).toContain(`it leads outside --image-root (to ${join(dir, 'private.png')})`);
    expect(readdirSync(join(out, 'thumbs')).sort()).toEqual(['0.webp', '2.webp']);
    expect(siteData(out)).not.toMatch(/"thumb":"https:/);

    const allowed = join(dir, 'site-remote');
    const remote = await cli(
      'site',
      '--results',
      join(dir, 'r.json'),
      '--image-root',
      join(dir, 'probe'),
      '--allow-remote-images',
      '--out',
      allowed,
    );
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stderr).toBe('');
    expect(siteData(allowed)).toContain('"thumb":"https://tracker.example/pixel.png"');
  });
});

describe('serve keeps its Host allow-list whatever it binds to', () => {
  const get = (port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('bound to every address, refuses foreign Host names (DNS rebinding) unless --allow-host names them', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>site</title>');
    const server = await startStaticServer({
      root,
      port: 0,
      host: '0.0.0.0',
      allowHosts: ['Dissect.Lab.Example'],
    });
    try {
      const { port } = server;
      expect(await get(port, 'evil.com')).toBe(421);
      expect(await get(port, `evil.com:${port}`)).toBe(421);
      expect(await get(port, `127.0.0.1:${port}`)).toBe(200);
      expect(await get(port, `localhost:${port}`)).toBe(200);
      expect(await get(port, `dissect.lab.example:${port}`)).toBe(200);
      expect(await get(port, `dissect.lab.example:${port + 1}`)).toBe(421);
    } finally {
      await server.close();
    }
  });

  it('serve --host with a name that does not resolve is one line, exit 2', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    const result = await cli('serve', root, '--port', '0', '--host', 'example.invalid');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^neurodissect: --host: cannot resolve example\.invalid \((ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME)\); give an address of this machine, e\.g\. 127\.0\.0\.1\n$/,
    );
  });
});
