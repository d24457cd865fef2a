/**
 * Which inference engine embeds images: ONNX Runtime (the serving default:
 * several times faster than tfjs here, and no tfjs wasm heap in the serving
 * process) or tfjs, the training engine, as the fallback when ONNX Runtime
 * cannot load or the model has no current `model.onnx`. Both engines load a
 * model directory into the same `Embedder` with the same `modelVersion`, so
 * stored embeddings stay valid whichever runs. tfjs is imported only when it
 * is used.
 */
import type { Config } from '../config/env.ts';
import type { LogSink } from '../log.ts';
import type { Embedder } from './embedder.contract.ts';

export const ENGINES = ['onnx', 'tfjs'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface EngineOptions {
  engine: EngineName;
  /** tfjs backend when tfjs runs; empty = the first that loads. */
  tfjsBackend: string;
  /** Intra-op threads of an ONNX Runtime session. */
  threads: number;
}

/** The engine options of a validated configuration (EMBED_ENGINE, TFJS_BACKEND), with `threads`. */
export function engineOptions(
  config: Pick<Config, 'EMBED_ENGINE' | 'TFJS_BACKEND'>,
  threads: number,
): EngineOptions {
  return { engine: config.EMBED_ENGINE, tfjsBackend: config.TFJS_BACKEND, threads };
}

/** Loads `modelDir` with the configured engine, falling back to tfjs (logged) when ONNX Runtime cannot. */
export async function loadEngine(modelDir: string, options: EngineOptions, log: LogSink): Promise<Embedder> {
  if (options.engine === 'onnx') {
    try {
      const { loadOnnxEmbedder } = await import('./onnxEmbedder.ts');
      return await loadOnnxEmbedder(modelDir, { threads: options.threads });
    } catch (err) {
      log.warn(
        { modelDir, err: (err as Error).message },
        'ONNX Runtime cannot serve this model: falling back to tfjs (npm run export:onnx -- --model DIR writes model.onnx)',
      );
    }
  }
  const { initBackend } = await import('./backend.ts');
  const { loadEmbedder } = await import('./embedder.ts');
  await initBackend(options.tfjsBackend || undefined);
  return loadEmbedder(modelDir);
}
