import { ErrorCode, NeurodissectError } from '../errors';
import type { MatmulKernel } from '../math/matmul';
import { type OperationOptions, throwIfAborted } from '../progress';
import type { NeuronRelation, ResultsLayer } from '../results/schema';
import type { Matrix } from '../tensor';
import { correlateLayers, type RelatedUnit, strongestRelations } from './correlate';

/** Which relations between neurons a dissection records (docs/relations.md). */
export interface RelationOptions {
  /**
   * Layers whose units every dissected layer is related to, besides the layer dissected before it
   * (any layer of the model, dissected or not).
   * @defaultValue []
   */
  from?: readonly string[];
  /** Units kept per neuron, layer and direction. @defaultValue 10 */
  top?: number;
}

/** The relations recorded by default: each dissected layer with the one before it, top 10. */
export const RELATION_DEFAULTS: Required<RelationOptions> = { from: [], top: 10 };

/**
 * Checks relation options. @throws `ND_INVALID_OPTION` (`details.field` `relations`) naming what is wrong.
 */
export function checkRelationOptions(options: RelationOptions): void {
  const wrong = (message: string) =>
    new NeurodissectError(ErrorCode.InvalidOption, `relations: ${message}`, {
      details: { field: 'relations' },
    });
  const { from = [], top = RELATION_DEFAULTS.top } = options;
  if (!Array.isArray(from) || from.some((layer) => typeof layer !== 'string' || layer.trim() === ''))
    throw wrong('from must list layer names.');
  if (!(Number.isInteger(top) && top >= 1)) throw wrong(`top must be a positive integer, got ${top}.`);
}

/** What {@link attachRelations} works on. */
export interface AttachRelationsOptions extends OperationOptions {
  /** The dissected layers in the order asked (each is related to the one before it). */
  order: readonly string[];
  relations: RelationOptions;
  /** Layers computed afresh in this run (their pairs are always computed). */
  fresh: ReadonlySet<string>;
  /** A layer's `N × K` summaries over the run's readable images. */
  activations(layer: string): Promise<Matrix>;
  matmul?: MatmulKernel;
}

/**
 * The pairs of layers to relate, each once, as `[earlier, later]`: every dissected layer with the
 * one dissected before it, and with each `from` layer (as the earlier one).
 */
export function relationPairs(order: readonly string[], from: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  const add = (earlier: string, later: string) => {
    const key = JSON.stringify([earlier, later].sort());
    if (earlier === later || seen.has(key)) return;
    seen.add(key);
    pairs.push([earlier, later]);
  };
  order.forEach((layer, i) => {
    if (i > 0) add(order[i - 1], layer);
    for (const source of from) add(source, layer);
  });
  return pairs;
}

const toUnits = (related: readonly RelatedUnit[]) =>
  related.map(({ unit, r }) => ({ unit, r: Math.round(r * 1e4) / 1e4 }));

/** Sets a neuron's relations with `layer` in `direction`, replacing earlier ones. */
function setRelation(neuron: ResultsLayer['neurons'][number], relation: NeuronRelation): void {
  const kept = (neuron.relations ?? []).filter(
    (r) => !(r.layer === relation.layer && r.direction === relation.direction),
  );
  neuron.relations = [...kept, relation];
}

const hasRelation = (layer: ResultsLayer | undefined, other: string, direction: 'from' | 'to') =>
  layer?.neurons.some((n) => n.relations?.some((r) => r.layer === other && r.direction === direction)) ??
  false;

/**
 * Relates the neurons of the dissected layers (in place): for each pair of
 * {@link relationPairs}, the `top` most correlated units of the earlier layer go to each neuron of
 * the later one (`direction: 'from'`) and, when the earlier layer is dissected too, the later
 * layer's to each of its neurons (`'to'`). A pair is computed when either layer is fresh or its
 * relations are missing; neurons with issues (non-finite activations) get none. Returns the pairs
 * computed.
 */
export async function attachRelations(
  layers: readonly ResultsLayer[],
  options: AttachRelationsOptions,
): Promise<[string, string][]> {
  const top = options.relations.top ?? RELATION_DEFAULTS.top;
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const done: [string, string][] = [];
  for (const [earlier, later] of relationPairs(options.order, options.relations.from ?? [])) {
    throwIfAborted(options.signal);
    const source = byName.get(earlier);
    const target = byName.get(later);
    if (!target) continue;
    const needed =
      options.fresh.has(earlier) ||
      options.fresh.has(later) ||
      !hasRelation(target, earlier, 'from') ||
      (source !== undefined && !hasRelation(source, later, 'to'));
    if (!needed) continue;
    const { r } = await correlateLayers(
      await options.activations(earlier),
      await options.activations(later),
      {
        matmul: options.matmul,
        signal: options.signal,
        onProgress: (event) => options.onProgress?.({ ...event, stage: `relations:${earlier}+${later}` }),
      },
    );
    const { byRow, byColumn } = strongestRelations(r, top);
    for (const neuron of target.neurons) {
      if (neuron.issues?.length || byColumn[neuron.unit] === undefined) continue;
      setRelation(neuron, { layer: earlier, direction: 'from', units: toUnits(byColumn[neuron.unit]) });
    }
    for (const neuron of source?.neurons ?? []) {
      if (neuron.issues?.length || byRow[neuron.unit] === undefined) continue;
      setRelation(neuron, { layer: later, direction: 'to', units: toUnits(byRow[neuron.unit]) });
    }
    done.push([earlier, later]);
  }
  return done;
}
