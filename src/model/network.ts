import * as tfl from '@tensorflow/tfjs-layers';
import { IMAGE_SIZE, NUM_CLASSES } from '../data/classes.ts';
import { FastBatchNorm } from './batchNorm.ts';
import { Conv2D } from './conv2d.ts';
import { CosineLogits } from './cosineLogits.ts';
import { L2Normalize } from './l2Normalize.ts';

export type Arch = 'seed' | 'improved';
/** Weight initialisation: Glorot uniform (the Keras default, the article's) or He normal (for ReLU). */
export type Init = 'glorot' | 'he';
export const INITS: readonly Init[] = ['glorot', 'he'];
/** 'softmax': a dense layer of logits; 'cosine': cosines to one unit weight vector per class (CosFace). */
export type Head = 'embedding' | 'softmax' | 'cosine';
/**
 * What follows the 64-d dense layer: nothing, a projection onto the unit sphere (L2Normalize), a batch
 * norm without shift (BNNeck, Luo et al. 2019), or that batch norm and then the projection.
 */
export type EmbeddingNorm = 'none' | 'l2' | 'bn' | 'bn-l2';
export const EMBEDDING_NORMS: readonly EmbeddingNorm[] = ['none', 'l2', 'bn', 'bn-l2'];
/** Whether a normalisation ends the network on the unit sphere. */
export const isUnitNorm = (norm: EmbeddingNorm): boolean => norm === 'l2' || norm === 'bn-l2';

export const EMBEDDING_DIM = 64;
/**
 * Name of the layer whose output is the 64-d embedding; a softmax model's embedding is read from it.
 * With an embedding norm it is the normalisation, and the dense layer before it is EMBEDDING_DENSE_LAYER.
 */
export const EMBEDDING_LAYER = 'embedding';
export const EMBEDDING_DENSE_LAYER = 'embedding_dense';
export const EMBEDDING_BN_LAYER = 'embedding_bn';
export const LOGITS_LAYER = 'logits';

export interface NetworkOptions {
  arch?: Arch;
  head?: Head;
  /** Seeds every initializer, so the same seed builds bit-identical weights on a given backend. */
  seed?: number;
  init?: Init;
  embeddingNorm?: EmbeddingNorm;
  /** Classes of a softmax or cosine head; Fashion-MNIST's ten by default. */
  classes?: number;
}

type SymbolicTensor = tfl.SymbolicTensor;
type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/** Each weighted layer gets its own seed derived from the network seed. */
function seeder(seed: number, init: Init): () => Initializer {
  let next = 0;
  const make = init === 'he' ? tfl.initializers.heNormal : tfl.initializers.glorotUniform;
  return () => make({ seed: seed * 1000 + next++ });
}

function seedTrunk(x: SymbolicTensor, init: () => Initializer): SymbolicTensor {
  const conv = (filters: number, strides: number, name: string) =>
    new Conv2D({
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
      name,
    });
  let h = conv(16, 2, 'conv1').apply(x) as SymbolicTensor;
  h = conv(32, 1, 'conv2').apply(h) as SymbolicTensor;
  return conv(64, 2, 'conv3').apply(h) as SymbolicTensor;
}

/** Network "H": the article's suggestion (batch normalization, more conv blocks), 147k parameters. */
function improvedTrunk(x: SymbolicTensor, init: () => Initializer): SymbolicTensor {
  let block = 0;
  const convBnRelu = (input: SymbolicTensor, filters: number, strides: number) => {
    block++;
    // No conv bias: the batch norm's beta plays that role.
    const c = new Conv2D({
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
      name: `conv${block}`,
    }).apply(input) as SymbolicTensor;
    const b = new FastBatchNorm({ name: `bn${block}` }).apply(c) as SymbolicTensor;
    return tfl.layers.reLU({ name: `relu${block}` }).apply(b) as SymbolicTensor;
  };
  let h = convBnRelu(x, 32, 1);
  h = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }).apply(h) as SymbolicTensor;
  h = convBnRelu(h, 32, 1);
  h = convBnRelu(h, 64, 2);
  h = convBnRelu(h, 64, 1);
  return convBnRelu(h, 128, 2);
}

/**
 * The dense 64 and its normalisation; the last layer is named EMBEDDING_LAYER. The batch norm has no β:
 * with it the embeddings could all move to one common vector, the collapse this layer is there to stop
 * (in training mode its output has zero mean and a fixed spread over the batch whatever the weights).
 */
function embeddingHead(pooled: SymbolicTensor, init: () => Initializer, norm: EmbeddingNorm): SymbolicTensor {
  const bn = norm === 'bn' || norm === 'bn-l2';
  const l2 = isUnitNorm(norm);
  let h = tfl.layers
    .dense({
      units: EMBEDDING_DIM,
      kernelInitializer: init(),
      name: norm === 'none' ? EMBEDDING_LAYER : EMBEDDING_DENSE_LAYER,
    })
    .apply(pooled) as SymbolicTensor;
  if (bn)
    h = new FastBatchNorm({ name: l2 ? EMBEDDING_BN_LAYER : EMBEDDING_LAYER, center: false }).apply(
      h,
    ) as SymbolicTensor;
  if (l2) h = new L2Normalize({ name: EMBEDDING_LAYER }).apply(h) as SymbolicTensor;
  return h;
}

/**
 * The embedding network. 'seed' is the source article's network exactly; 'improved' is network H.
 * The 'softmax' head adds a dense layer producing logits (softmax is applied in the loss); the 'cosine'
 * head the class cosines of CosFace, over an embedding that must be on the unit sphere.
 * `embeddingNorm` adds the embedding's normalisation as layers of the model (saved, exported, served).
 */
export function buildNetwork(opts: NetworkOptions = {}): tfl.LayersModel {
  const { arch = 'seed', head = 'embedding', seed = 42 } = opts;
  const init = seeder(seed, opts.init ?? 'glorot');
  const input = tfl.input({ shape: [IMAGE_SIZE, IMAGE_SIZE, 1], name: 'image' });
  const trunk = arch === 'improved' ? improvedTrunk(input, init) : seedTrunk(input, init);
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(trunk) as SymbolicTensor;
  const embedding = embeddingHead(pooled, init, opts.embeddingNorm ?? 'none');
  if (head === 'embedding')
    return tfl.model({ inputs: input, outputs: embedding, name: `${arch}_embedding` });
  const units = opts.classes ?? NUM_CLASSES;
  const classifier =
    head === 'cosine'
      ? new CosineLogits({ units, kernelInitializer: init(), name: LOGITS_LAYER })
      : tfl.layers.dense({ units, kernelInitializer: init(), name: LOGITS_LAYER });
  const logits = classifier.apply(embedding) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: `${arch}_${head}` });
}

/** The model's 64-d embedding output: the model itself, or the layer before a classifier head. */
export function embeddingModel(model: tfl.LayersModel): tfl.LayersModel {
  const layer = model.getLayer(EMBEDDING_LAYER);
  if (model.outputs.length === 1 && model.outputs[0] === layer.output) return model;
  return tfl.model({ inputs: model.inputs, outputs: layer.output as SymbolicTensor });
}
