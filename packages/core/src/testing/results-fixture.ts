import { createResults } from '../results/create';
import { parseResults } from '../results/parse';
import type {
  ImageEntry,
  LabelerRun,
  Results,
  ResultsFailure,
  ResultsLayer,
  ResultsNeuron,
  RunInfo,
  TopImage,
} from '../results/schema';

/** A neuron for {@link resultsFixture}: as in a Results document, `topImages` optional (default none). */
export type ResultsFixtureNeuron = Omit<ResultsNeuron, 'topImages'> & { topImages?: TopImage[] };

/** A layer for {@link resultsFixture}: as in a Results document, `units` optional. */
export interface ResultsFixtureLayer {
  name: string;
  /** Number of units. @defaultValue one past the highest unit among `neurons` (0 when none) */
  units?: number;
  summary?: ResultsLayer['summary'];
  neurons: readonly ResultsFixtureNeuron[];
}

/** What {@link resultsFixture} needs; everything but `layers` has a default. */
export interface ResultsFixtureOptions {
  layers: readonly ResultsFixtureLayer[];
  /** The probe's images: a path (its id is `img<i>`) or a whole entry each. @defaultValue none */
  images?: readonly (string | ImageEntry)[];
  /**
   * The labelers that ran: an id (version `'1'`, no options) or a whole entry each.
   * @defaultValue every labeler id found in the neurons' labels, in order of first appearance
   */
  labelers?: readonly (string | LabelerRun)[];
  /** The model's name. @defaultValue `'fixture'` */
  model?: string;
  /** The probe's name. @defaultValue `'fixture'` */
  probe?: string;
  /**
   * The concept set.
   * @defaultValue name `'fixture'`, size one past the highest `concept` index among the labels (0 when none)
   */
  concepts?: Results['concepts'];
  /** Replaces fields of `run`. @defaultValue tool `neurodissect 0.0.0`, created 2024-01-01T00:00:00Z, kind `test`, no parameters */
  run?: Partial<RunInfo>;
  failures?: ResultsFailure[];
}

/**
 * A small Results document for tests, built with {@link @neurodissect/core!createResults | createResults}
 * and checked with {@link @neurodissect/core!parseResults | parseResults}, so a fixture that breaks
 * the format's rules (a unit outside its layer, an image index past the probe, a labeler not
 * listed, …) throws at once with the path of each problem.
 *
 * Only the layers must be given; the rest has plain defaults (see {@link ResultsFixtureOptions}).
 *
 * @example
 * ```ts
 * const results = resultsFixture({
 *   images: ['a.png', 'b.png'],
 *   layers: [
 *     {
 *       name: 'layer1',
 *       neurons: [{ unit: 0, topImages: [{ image: 1 }], labels: { 'clip-dissect': [{ label: 'dog', score: 0.3 }] } }],
 *     },
 *   ],
 * });
 * ```
 */
export function resultsFixture(options: ResultsFixtureOptions): Results {
  const layers: ResultsLayer[] = options.layers.map((layer) => ({
    name: layer.name,
    units: layer.units ?? Math.max(0, ...layer.neurons.map((n) => n.unit + 1)),
    ...(layer.summary ? { summary: layer.summary } : {}),
    neurons: layer.neurons.map(({ topImages, ...neuron }) => ({ ...neuron, topImages: topImages ?? [] })),
  }));
  const labelIds = new Set<string>();
  let concepts = 0;
  for (const layer of layers) {
    for (const neuron of layer.neurons) {
      for (const [id, labels] of Object.entries(neuron.labels)) {
        labelIds.add(id);
        for (const label of labels)
          if (label.concept !== undefined) concepts = Math.max(concepts, label.concept + 1);
      }
    }
  }
  return parseResults(
    createResults({
      run: {
        tool: { name: 'neurodissect', version: '0.0.0' },
        createdAt: '2024-01-01T00:00:00Z',
        kind: 'test',
        parameters: {},
        ...options.run,
      },
      model: { name: options.model ?? 'fixture' },
      probe: {
        name: options.probe ?? 'fixture',
        images: (options.images ?? []).map((image, i) =>
          typeof image === 'string' ? { id: `img${i}`, uri: image } : image,
        ),
      },
      concepts: options.concepts ?? { name: 'fixture', size: concepts },
      labelers: (options.labelers ?? [...labelIds]).map((labeler) =>
        typeof labeler === 'string' ? { id: labeler, version: '1', options: {} } : labeler,
      ),
      layers,
      failures: options.failures ?? [],
    }),
    'resultsFixture',
  );
}
