import { createSessionTargetModel, type SessionTargetModel } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-web';
import { describeSource, type ModelSource, readSourceBytes } from './model-source';
import { openWebSession, type WebExecutionProvider, type WebSessionOptions } from './web-session';

/** Options for {@link createWebTargetModel}. */
export interface WebTargetModelOptions extends WebSessionOptions {
  /** The `.onnx` model: a URL, a picked `File`, or its bytes. */
  model: ModelSource;
  /** Name used in messages. @defaultValue the URL or file name */
  name?: string;
  signal?: AbortSignal;
}

/** A {@link @neurodissect/core!TargetModel | TargetModel} on onnxruntime-web. */
export type WebTargetModel = SessionTargetModel<WebExecutionProvider>;

/**
 * Loads an ONNX image model in the page and exposes its intermediate layers, as runtime-node
 * does (the same code: model-io's {@link createSessionTargetModel} on onnxruntime-web). Runs are
 * queued, since an onnxruntime-web session takes one call at a time.
 * @throws `ND_FILE_NOT_FOUND`, `ND_MODEL_LOAD_FAILED`, `ND_EXECUTION_PROVIDER_UNAVAILABLE`.
 */
export async function createWebTargetModel(options: WebTargetModelOptions): Promise<WebTargetModel> {
  const name = options.name ?? describeSource(options.model);
  const bytes = await readSourceBytes(options.model, {
    name,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return createSessionTargetModel<WebExecutionProvider>({
    bytes,
    name,
    open: (model, provider) =>
      openWebSession(model, name, provider ? { executionProviders: [provider], strict: true } : options),
    createTensor: (data, dims) => new ort.Tensor('float32', data, [...dims]),
    serialize: true,
  });
}
