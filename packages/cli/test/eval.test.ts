import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvalReportSchema } from '@neurodissect/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import type { CliIo } from '../src/io';
import { runCli } from '../src/program';

const CLIP_SEARCH = fixturePath('core', 'clip-search');

function capture(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

let dir: string;
let resultsFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nd-eval-'));
  resultsFile = join(dir, 'r.json');
  const io = capture();
  expect(await runCli(['import', 'clip-search', CLIP_SEARCH, '--out', resultsFile], io)).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('neurodissect eval', () => {
  it('evaluates the imported clip-search data: neurons, mean max score, interpretability per layer', async () => {
    const out = join(dir, 'rep');
    const io = capture();
    expect(await runCli(['eval', '--results', resultsFile, '--out', out], io)).toBe(0);
    expect(io.err()).toBe('');
    const report = EvalReportSchema.parse(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
    // Reference values computed independently with Python over the clip-search CSVs:
    //   rows = list(csv.reader(open(f'layer{l}.csv')))[1:]; mx = [max(map(float, r[11:21])) for r in rows]
    //   len(mx), sum(mx)/len(mx), and counts of mx >= .3, .2 <= mx < .3, .1 <= mx < .2, mx < .1
    const expected = [
      {
        layer: 'layer1',
        neurons: 256,
        mean: 0.18260860443115234,
        interpretability: { levels: [32, 44, 143], none: 37 },
      },
      {
        layer: 'layer2',
        neurons: 512,
        mean: 0.16996580362319946,
        interpretability: { levels: [38, 100, 308], none: 66 },
      },
      {
        layer: 'layer3',
        neurons: 1024,
        mean: 0.2087889015674591,
        interpretability: { levels: [158, 317, 483], none: 66 },
      },
      {
        layer: 'layer4',
        neurons: 2048,
        mean: 0.2650984525680542,
        interpretability: { levels: [634, 723, 648], none: 43 },
      },
    ];
    expect(report.layers.map((l) => l.layer)).toEqual(expected.map((e) => e.layer));
    report.layers.forEach((layer, i) => {
      expect(layer.neurons).toBe(expected[i].neurons);
      expect(layer.meanMaxScore).toBeCloseTo(expected[i].mean, 10);
      expect(layer.interpretability).toEqual(expected[i].interpretability);
      expect(layer.labeler).toBe('clip-dissect');
    });
    // The import is soft-WPMI: the report's own thresholds, with their source.
    expect(report.labelers[0].scale).toMatchObject({
      name: 'soft-WPMI similarity',
      levels: [
        { name: 'high', threshold: 0.3 },
        { name: 'medium', threshold: 0.2 },
        { name: 'low', threshold: 0.1 },
      ],
    });
    expect(report.thresholds).toBeNull();
    expect(report.groundTruth).toBeNull();
    const files = (await readdir(out)).sort();
    expect(files).toEqual(
      [
        'report.html',
        'report.json',
        'report.md',
        ...['layer1', 'layer2', 'layer3', 'layer4'].flatMap((l) => [
          `clip-dissect-${l}-max-score.svg`,
          `clip-dissect-${l}-top-labels.svg`,
        ]),
      ].sort(),
    );
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| layer4 | 2048 | 0.265 | 634 | 723 | 648 | 43 |');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.match(/<img src="data:image\/svg\+xml/g)).toHaveLength(8);
    expect(io.out()).toContain('layer4: 2048 neurons, mean max score 0.2651, 634/723/648/43');
  });

  it('writes Tables 1 and 2 with a ground truth and synonyms, without figures', async () => {
    // layer1.csv neurons 0-3, top-5 labels (from the CSV): 0 purple magenta wavelength pink lilac; the
    // ground truth below is hand-made against them.
    const csv = (await readFile(join(CLIP_SEARCH, 'layer1.csv'), 'utf8')).split('\n').slice(1, 5);
    const top5 = csv.map((row) => row.split(',').slice(1, 6));
    expect(top5[0]).toEqual(['purple', 'magenta', 'wavelength', 'pink', 'lilac']);
    const gt = join(dir, 'gt.csv');
    await writeFile(
      gt,
      `layer,unit,label\nlayer1,0,purple\nlayer1,1,${top5[1][2]}\nlayer1,2,violet\nlayer1,3,-\nlayer1,9999,x\nlayer9,0,dog\nlayer9,1,cat\n`,
    );
    const synonyms = join(dir, 'syn.txt');
    await writeFile(synonyms, `violet, ${top5[2][4]}\n`);
    const out = join(dir, 'rep-gt');
    const io = capture();
    const code = await runCli(
      [
        'eval',
        '--results',
        resultsFile,
        '--ground-truth',
        gt,
        '--synonyms',
        synonyms,
        '--non-interpretable',
        '-',
        '--no-figures',
        '--out',
        out,
      ],
      io,
    );
    // Rows the Results cannot answer are said, not dropped silently.
    expect(io.err()).toBe(
      'note: --ground-truth names layers the Results do not have, ignored: layer9 (2 rows); the Results have layer1, layer2, layer3, layer4\n' +
        'note: 1 --ground-truth row(s) name units the Results do not hold; they are counted as missing\n',
    );
    expect(code).toBe(0);
    const report = EvalReportSchema.parse(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
    const layer1 = report.labelers[0].layers[0];
    // unit 0 top-1; unit 1 rank 3; unit 2 rank 5 through the synonym; unit 3 non-interpretable; 9999 missing.
    expect(layer1.accuracy).toEqual({
      top1: 1,
      top3: 2,
      top5: 3,
      incorrect: 0,
      nonInterpretable: 1,
      total: 4,
      interpretable: 3,
      top5AccuracyInterpretable: 1,
      missing: 1,
    });
    // Max scores from the CSV (column 11 of rows 0-3): 0 top-1, {0,1} top-3, {0,1,2} top-5, {3} the rest.
    const max = csv.map((row) => Number(row.split(',')[11]));
    expect(layer1.scoreByCorrectness!.top1).toBeCloseTo(max[0], 12);
    expect(layer1.scoreByCorrectness!.top3).toBeCloseTo((max[0] + max[1]) / 2, 12);
    expect(layer1.scoreByCorrectness!.incorrectOrNonInterpretable).toBeCloseTo(max[3], 12);
    expect(report.labelers[0].layers[1].accuracy).toBeUndefined();
    expect((await readdir(out)).sort()).toEqual(['report.html', 'report.json', 'report.md']);
    expect(io.out()).toContain(
      'clip-dissect layer1: top-1 1, top-3 2, top-5 3 of 3 interpretable (4 judged, 1 missing)',
    );
  });

  it('takes --ground-truth once per annotator: agreement, and the tables for the agreed neurons', async () => {
    // layer1 units 0-3 as above (0's top-1 is purple). Planted: A and B agree on 0 (purple) and 2
    // (non-interpretable); on 1 A says "purple", B "violet"; on 3 only B calls it non-interpretable.
    // Both labelled 4 neurons: both interpretable {0, 1}, both non {2}, A only {3}.
    // p_o = 3/4; p_e = 0.75·0.5 + 0.25·0.5 = 0.5; κ = 0.25/0.5 = 0.5; same label 1 of 2.
    const a = join(dir, 'ann-a.csv');
    const b = join(dir, 'ann-b.csv');
    await writeFile(
      a,
      '# neurodissect-annotation: {"annotator":"ann","sample":{"seed":5,"perLayer":4,"layers":[{"layer":"layer1","drawn":4,"of":256}]}}\nlayer,unit,label\nlayer1,0,purple\nlayer1,1,purple\nlayer1,2,\nlayer1,3,sky\n',
    );
    await writeFile(b, 'layer,unit,label\nlayer1,0,Purple\nlayer1,1,violet\nlayer1,2,\nlayer1,3,\n');
    const out = join(dir, 'rep-two');
    const io = capture();
    const code = await runCli(
      [
        'eval',
        '--results',
        resultsFile,
        '--ground-truth',
        a,
        '--ground-truth',
        b,
        '--no-figures',
        '--out',
        out,
      ],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const report = EvalReportSchema.parse(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
    // The tables judge the agreed neurons: 0 (top-1) and 2 (non-interpretable).
    expect(report.labelers[0].layers[0].accuracy).toMatchObject({ top1: 1, nonInterpretable: 1, total: 2 });
    const [agreement] = report.annotation!.agreement;
    expect(agreement).toMatchObject({
      layer: 'layer1',
      annotators: ['ann', 'ann-b.csv'],
      neurons: 4,
      sameLabel: 1,
    });
    expect(agreement.kappa).toBeCloseTo(0.5, 12);
    expect(report.annotation!.perAnnotator.map((p) => p.labelers[0].layers[0].accuracy.total)).toEqual([
      4, 4,
    ]);
    expect(io.out()).toContain(
      '  agreement layer1 (ann / ann-b.csv): kappa 0.500, same label 0.500 over 4 neurons both labelled',
    );
    // A's sample is said, with the intervals of the agreed tables.
    expect(io.out()).toContain(
      'clip-dissect layer1: top-1 1, top-3 1, top-5 1 of 1 interpretable (2 judged, 0 missing); a sample of 2 of 256',
    );
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('ann labelled a random sample of 4 neurons per layer (seed 5; layer1 4 of 256)');
  });

  it("adds CLIP-Dissect's final-layer metrics for --final-layer with --class-names", async () => {
    const descriptions = join(dir, 'fc.csv');
    await writeFile(
      descriptions,
      'layer,unit,description,similarity\nfc,0,tench,0.9\nfc,1,Carassius_auratus,0.8\nfc,2,shark,0.3\nfc,3,tiger shark,0.2\n',
    );
    const classes = join(dir, 'classes.txt');
    await writeFile(
      classes,
      'tench, Tinca tinca\ngoldfish, Carassius auratus\ngreat white shark\ntiger shark\n',
    );
    const fc = join(dir, 'fc.json');
    expect(await runCli(['import', 'clip-dissect', descriptions, '--out', fc], capture())).toBe(0);
    const io = capture();
    const out = join(dir, 'rep-fc');
    expect(
      await runCli(
        [
          'eval',
          '--results',
          fc,
          '--final-layer',
          'fc',
          '--class-names',
          classes,
          '--no-figures',
          '--out',
          out,
        ],
        io,
      ),
    ).toBe(0);
    const report = EvalReportSchema.parse(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
    // By hand: units 0, 1 (synonym "Carassius auratus") and 3 are right at rank 1, unit 2 ("shark") is not
    // ranked. Median of ranks {1, 1, 1, >1} = 1. ROC-AUC: positives .9 .8 .2 vs negative .3 → 2 of 3 pairs.
    expect(report.finalLayer).toHaveLength(1);
    const f = report.finalLayer![0];
    expect(f).toMatchObject({
      layer: 'fc',
      labeler: 'clip-dissect',
      neurons: 4,
      top1Accuracy: 0.75,
      top5Accuracy: 0.75,
      meanRank: null,
      medianRank: 1,
      notRanked: 1,
      textSimilarity: {},
    });
    expect(f.rocAuc).toBeCloseTo(2 / 3, 12);
    expect(io.out()).toContain(
      'final layer fc (clip-dissect): top-1 0.750, top-5 0.750, median rank 1.0, ROC-AUC 0.667 over 4 units',
    );
    // With a CLIP: CLIP-Dissect's mean text cosine between each unit's top label and its class.
    const withClip = capture();
    const clipOut = join(dir, 'rep-fc-clip');
    const clipDir = fixturePath('runtime-node', 'clip', 'clip-openclip');
    const args = ['eval', '--results', fc, '--final-layer', 'fc', '--class-names', classes, '--no-figures'];
    expect(await runCli([...args, '--clip', clipDir, '--out', clipOut], withClip)).toBe(0);
    const clipReport = EvalReportSchema.parse(
      JSON.parse(await readFile(join(clipOut, 'report.json'), 'utf8')),
    );
    const cosine = clipReport.finalLayer![0].textSimilarity.clip;
    expect(cosine).toBeGreaterThan(-1);
    expect(cosine).toBeLessThanOrEqual(1);
    expect(withClip.out()).toContain(`clip text cosine ${cosine.toFixed(4)}`);
    const alone = capture();
    expect(await runCli(['eval', '--results', fc, '--clip', clipDir, '--out', clipOut], alone)).toBe(2);
    expect(alone.err()).toMatch(/--clip goes with --final-layer/);
  });

  it('fails in one line on missing files and malformed ground truth', async () => {
    const missing = capture();
    expect(
      await runCli(['eval', '--results', join(dir, 'nope.json'), '--out', join(dir, 'x')], missing),
    ).toBe(2);
    expect(missing.err()).toBe(`neurodissect: --results: file not found: ${join(dir, 'nope.json')}\n`);
    const badGt = join(dir, 'bad-gt.csv');
    await writeFile(badGt, 'layer,unit,label\nlayer1,0,purple\nlayer1,-3,x\n');
    const bad = capture();
    expect(
      await runCli(['eval', '--results', resultsFile, '--ground-truth', badGt, '--out', join(dir, 'x')], bad),
    ).toBe(2);
    expect(bad.err()).toBe(
      `neurodissect: --ground-truth: ${badGt}:3: unit "-3" is not a non-negative integer.\n`,
    );
    const notResults = capture();
    expect(await runCli(['eval', '--results', badGt, '--out', join(dir, 'x')], notResults)).toBe(2);
    expect(notResults.err()).toMatch(/^neurodissect: --results: .*not valid JSON/);
    const thresholds = capture();
    expect(
      await runCli(
        ['eval', '--results', resultsFile, '--thresholds', '0.1,0.2,0.3', '--out', join(dir, 'x')],
        thresholds,
      ),
    ).toBe(2);
    expect(thresholds.err()).toContain('is not HIGH,MEDIUM,LOW');
  });
});
