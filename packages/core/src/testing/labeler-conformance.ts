// The labeler conformance suite, published as `@neurodissect/core/testing` beside the runtime one.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors';
import type { Labeler, LabelerContext, LayerLabels } from '../interfaces';
import { ScoredLabelSchema } from '../results/schema';
import { createLabelerFixtureWorld, type LabelerFixtureWorld } from './labeler-fixture-world';

/** What a labeler may require, as core's {@link Labeler} declares it. */
const REQUIREMENTS = ['activations', 'clip', 'annotations', 'activation-maps'] as const;

/** Options of {@link describeLabelerConformance}. */
export interface LabelerConformanceOptions {
  /**
   * Check that each neuron's top label is the fixture world's known answer. Turn it off only for a
   * labeler that names something the world does not define (its other checks still run).
   * @defaultValue true
   */
  readonly knownAnswers?: boolean;
}

// By code, not instanceof: the labeler under test may hold another copy of core.
function codeOf(error: unknown): unknown {
  return error instanceof Error ? (error as { code?: unknown }).code : undefined;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

// A real AbortSignal; core declares no AbortController type.
function abortedSignal(): AbortSignal {
  const { AbortController } = globalThis as unknown as {
    AbortController: new () => { signal: AbortSignal; abort(reason?: unknown): void };
  };
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

/** The context with only what `requires` lists (and the always-present fields). */
function onlyRequired(context: LabelerContext, requires: Labeler['requires']): LabelerContext {
  return {
    layer: context.layer,
    activations: context.activations,
    concepts: context.concepts,
    ...(requires.includes('clip')
      ? { imageEmbeddings: context.imageEmbeddings, textEmbeddings: context.textEmbeddings }
      : {}),
    ...(requires.includes('activation-maps') ? { activationMaps: context.activationMaps } : {}),
    ...(requires.includes('annotations') ? { annotations: context.annotations } : {}),
  };
}

function without(context: LabelerContext, requirement: (typeof REQUIREMENTS)[number]): LabelerContext {
  const copy: Record<string, unknown> = { ...context };
  if (requirement === 'clip') {
    delete copy.imageEmbeddings;
    delete copy.textEmbeddings;
  } else if (requirement === 'activation-maps') delete copy.activationMaps;
  else if (requirement === 'annotations') delete copy.annotations;
  return copy as unknown as LabelerContext;
}

function checkLabels(labels: LayerLabels, world: LabelerFixtureWorld, labeler: Labeler): void {
  expect(Array.isArray(labels)).toBe(true);
  expect(labels.length).toBe(world.activations.cols);
  const vocabulary = new Set(world.concepts);
  if (labeler.requires.includes('annotations'))
    for (const { name } of world.probe.conceptAnnotations.labels.values()) vocabulary.add(name);
  labels.forEach((ranked, unit) => {
    expect(Array.isArray(ranked), `neuron ${unit}'s labels are not an array`).toBe(true);
    ranked.forEach((entry, j) => {
      const parsed = ScoredLabelSchema.safeParse(entry);
      expect(parsed.success, `neuron ${unit} label ${j}: ${JSON.stringify(entry)}`).toBe(true);
      expect(Number.isFinite(entry.score), `neuron ${unit} label ${j} score ${entry.score}`).toBe(true);
      expect(entry.label.length).toBeGreaterThan(0);
      expect(vocabulary.has(entry.label), `neuron ${unit}: "${entry.label}" is not in the concept set`).toBe(
        true,
      );
      if (entry.concept !== undefined)
        expect(world.concepts[entry.concept], `neuron ${unit}: concept index ${entry.concept}`).toBe(
          entry.label,
        );
      if (j > 0)
        expect(entry.score, `neuron ${unit}: labels not sorted by score`).toBeLessThanOrEqual(
          ranked[j - 1].score,
        );
    });
    const names = ranked.map((entry) => entry.label);
    expect(new Set(names).size, `neuron ${unit} has a label twice`).toBe(names.length);
  });
}

/**
 * Registers vitest tests that check a {@link Labeler} keeps core's contract, on the built-in
 * {@link LabelerFixtureWorld} (whose answers are known): a stable kebab-case `id` and a `version`;
 * `requires` drawn from core's list and honoured (the labeler works on a context holding only what
 * it declares, and rejects a context lacking any declared input with a coded error whose message
 * names the labeler); one ranked list per neuron, sorted by score descending, scores finite,
 * labels from the concept set (or the annotations' names) with consistent `concept` indices;
 * each neuron's top label is the known answer; the same output for the same input; `ND_ABORTED`
 * for an aborted signal; options recorded as plain JSON; inputs left unmodified. A labeler runs it
 * in one line:
 * `describeLabelerConformance('clip-dissect', () => clipDissect({ similarityOptions: { topK: 10 } }))`.
 * @param createLabeler Builds the labeler; it receives the world (for labelers that take handles
 *   such as images, a detector or a segmenter through their options).
 */
export function describeLabelerConformance(
  name: string,
  createLabeler: (world: LabelerFixtureWorld) => Labeler,
  options: LabelerConformanceOptions = {},
): void {
  const knownAnswers = options.knownAnswers ?? true;

  describe(`labeler conformance: ${name}`, () => {
    const world = createLabelerFixtureWorld();

    it('has a stable kebab-case id, a version and the same options each time it is made', () => {
      const a = createLabeler(world);
      const b = createLabeler(createLabelerFixtureWorld());
      expect(a.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(typeof a.version).toBe('string');
      expect(a.version.length).toBeGreaterThan(0);
      expect([b.id, b.version]).toEqual([a.id, a.version]);
      expect(b.options).toEqual(a.options);
    });

    it('records its options as plain JSON', () => {
      const { options: recorded } = createLabeler(world);
      expect(recorded !== null && typeof recorded === 'object' && !Array.isArray(recorded)).toBe(true);
      expect(JSON.parse(JSON.stringify(recorded))).toEqual(recorded);
    });

    it('declares what it requires from core’s list, each once', () => {
      const { requires } = createLabeler(world);
      for (const requirement of requires) expect(REQUIREMENTS).toContain(requirement);
      expect(new Set(requires).size).toBe(requires.length);
    });

    it('labels every neuron with a ranked, finite list from the concept set', async () => {
      const labeler = createLabeler(world);
      const labels = await labeler.label(world.context());
      checkLabels(labels, world, labeler);
    });

    it.skipIf(!knownAnswers)('finds each neuron’s known label first', async () => {
      const labels = await createLabeler(world).label(world.context());
      expect(labels.map((ranked) => ranked[0]?.label)).toEqual([...world.expected]);
    });

    it('works with only what it declares', async () => {
      const labeler = createLabeler(world);
      const full = await labeler.label(world.context());
      const minimal = await labeler.label(onlyRequired(world.context(), labeler.requires));
      expect(minimal).toEqual(full);
    });

    it('rejects a context lacking a declared input with a coded error that names it', async () => {
      const labeler = createLabeler(world);
      for (const requirement of labeler.requires) {
        if (requirement === 'activations') continue; // always in the context
        const error = await rejection(labeler.label(without(world.context(), requirement)));
        expect(codeOf(error), `without ${requirement}: ${String(error)}`).toMatch(/^ND_[A-Z_]+$/);
        expect((error as Error).message, `without ${requirement}`).toContain(labeler.id);
      }
    });

    it('gives the same labels for the same input', async () => {
      const labeler = createLabeler(world);
      const first = await labeler.label(world.context());
      expect(await labeler.label(world.context())).toEqual(first);
      expect(await createLabeler(createLabelerFixtureWorld()).label(world.context())).toEqual(first);
    });

    it('leaves its inputs unmodified', async () => {
      const context = world.context();
      const before = {
        activations: context.activations.data.slice(),
        imageEmbeddings: context.imageEmbeddings!.data.slice(),
        textEmbeddings: context.textEmbeddings!.data.slice(),
        activationMaps: context.activationMaps!.data.slice(),
        concepts: [...context.concepts],
      };
      await createLabeler(world).label(context);
      expect({
        activations: context.activations.data,
        imageEmbeddings: context.imageEmbeddings!.data,
        textEmbeddings: context.textEmbeddings!.data,
        activationMaps: context.activationMaps!.data,
        concepts: context.concepts,
      }).toEqual(before);
    });

    it('rejects with ND_ABORTED when cancelled', async () => {
      const error = await rejection(createLabeler(world).label(world.context({ signal: abortedSignal() })));
      expect(codeOf(error)).toBe(ErrorCode.Aborted);
    });
  });
}
