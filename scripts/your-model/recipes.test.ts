import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/your-model.md's export recipes, run as written by check-recipes.py with Debian's torch.
const root = join(__dirname, '..', '..');
const python = '/usr/bin/python3';
const hasTorch =
  existsSync(python) &&
  spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;

describe('docs/your-model.md', () => {
  it.skipIf(!hasTorch)(
    'export recipes run as written and each export runs a batch of 2',
    { timeout: 900_000 },
    () => {
      const output = execFileSync(python, [join(root, 'scripts/your-model/check-recipes.py')], {
        encoding: 'utf8',
      });
      expect(output).toMatch(/resnet50\.onnx: exported, layer .* ran on a batch of 2/);
      expect(output).toMatch(/vit_b_16\.onnx: exported/);
      expect(output).toMatch(/wrapped\.onnx: exported/);
    },
  );
  it.runIf(!hasTorch)(
    'is skipped without torch (apt-get install -y python3-torch python3-torchvision)',
    () => {
      expect(hasTorch).toBe(false);
    },
  );
});
