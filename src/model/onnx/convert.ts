/**
 * tfjs LayersModel → ONNX graph, for the layer kinds the project's networks use. Layers are walked in
 * the model's topological order and matched by class name; anything else is refused with an error
 * naming the layer, so an exported file never computes something different from tfjs.
 *
 * Layouts: tfjs runs NHWC, the ONNX graph NCHW. The graph input is `image` [N,1,H,W]: with one channel
 * the NCHW buffer is byte-identical to tfjs' NHWC one, so callers feed the same Float32Array. Kernels go
 * from HWIO to OIHW; a dense kernel [in,out] is Gemm's B as is (transB = 0). TF 'same' padding becomes
 * explicit pads by TF's rule (the odd pixel at the end). A batch norm right after a linear convolution
 * is folded into that convolution's weights and bias (inference: the moving statistics).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { DataFileError } from '../../errors.ts';
import { type EmbeddingHead, isPlainHead, L2_EPSILON, PLAIN_HEAD } from '../embeddingHead.ts';
import { formatModelVersion } from '../modelVersion.ts';
import {
  META_EMBEDDING_DIM,
  META_MODEL_NAME,
  META_MODEL_VERSION,
  META_WEIGHTS_SHA256,
  ONNX_INPUT,
  ONNX_OUTPUT,
} from './format.ts';
import {
  attr,
  encodeModel,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnxProto.ts';

export const PRODUCER_NAME = 'fashion-similar';
/** Bump when the exporter's output changes for the same weights. */
export const PRODUCER_VERSION = '1';

export interface ConvertOptions {
  /** The model's name (metadata.json `name`). */
  name: string;
  /** The model digest (modelDigest of weights.bin and the head), stored so a stale model.onnx is detected at load. */
  digest: string;
  /** What follows the network's embedding; plain when absent. */
  head?: EmbeddingHead;
  /** Unit class proxies [classes, dim] (unitProxies), when the head pulls toward them. */
  proxies?: Float32Array;
}

/** The network's input when the graph embeds each image and its mirror image: [2N, 1, H, W]. */
const VIEWS = 'input/views';
/** The network's own embedding when a head follows it. */
const NETWORK_OUTPUT = 'head/input';

type Layer = tfl.layers.Layer;
type LayerNode = Layer['inboundNodes'][number];
type Config = Record<string, unknown>;

export class UnsupportedLayerError extends DataFileError {
  constructor(layer: Layer, why: string) {
    super(`ONNX export: layer '${layer.name}' (${layer.getClassName()}) ${why}`, 'ONNX_UNSUPPORTED_LAYER');
  }
}

function configOf(layer: Layer): Config {
  return layer.getConfig() as Config;
}

function pairOf(layer: Layer, cfg: Config, key: string): [number, number] {
  const v = cfg[key];
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 2 || !arr.every((n) => Number.isInteger(n) && n > 0))
    throw new UnsupportedLayerError(layer, `has an unexpected ${key}: ${JSON.stringify(v)}`);
  return [arr[0] as number, arr[1] as number];
}

/** TF 'same' padding along one axis: [begin, end], the extra pixel at the end. */
export function samePads(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

function onlyNode(layer: Layer): LayerNode {
  if (layer.inboundNodes.length !== 1)
    throw new UnsupportedLayerError(layer, `is applied ${layer.inboundNodes.length} times (shared layers)`);
  return layer.inboundNodes[0];
}

/** NHWC [null,H,W,C] of a layer's single input. */
function inputShape(layer: Layer): (number | null)[] {
  const shapes = onlyNode(layer).inputShapes;
  const shape = (Array.isArray(shapes[0]) ? shapes : [shapes]) as (number | null)[][];
  if (shape.length !== 1) throw new UnsupportedLayerError(layer, `has ${shape.length} inputs`);
  return shape[0];
}

function spatialSize(layer: Layer): [number, number] {
  const s = inputShape(layer);
  if (s.length !== 4 || typeof s[1] !== 'number' || typeof s[2] !== 'number')
    throw new UnsupportedLayerError(
      layer,
      `needs a 4-d input of fixed height and width, got ${JSON.stringify(s)}`,
    );
  return [s[1], s[2]];
}

function weight(layer: Layer, suffix: string): { data: Float32Array; shape: number[] } | undefined {
  const v = layer.weights.find(
    (w) => w.originalName === `${layer.name}/${suffix}` || w.originalName.endsWith(`/${suffix}`),
  );
  if (!v) return undefined;
  return { data: v.read().dataSync() as Float32Array, shape: v.shape as number[] };
}

function requireWeight(layer: Layer, suffix: string): { data: Float32Array; shape: number[] } {
  const w = weight(layer, suffix);
  if (!w) throw new UnsupportedLayerError(layer, `has no '${suffix}' weight`);
  return w;
}

/** tfjs activation names (as getConfig serialises them) → ONNX operator; null = identity. */
const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

function activationOp(layer: Layer, name: unknown): string | null {
  if (typeof name !== 'string' || !(name in ACTIVATIONS))
    throw new UnsupportedLayerError(layer, `has an unsupported activation ${JSON.stringify(name)}`);
  return ACTIVATIONS[name];
}

interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

function batchNormParams(layer: Layer): BatchNormParams {
  const epsilon = configOf(layer).epsilon;
  if (typeof epsilon !== 'number') throw new UnsupportedLayerError(layer, 'has no numeric epsilon');
  return {
    gamma: requireWeight(layer, 'gamma').data,
    // center: false has no β: a zero shift.
    beta: weight(layer, 'beta')?.data ?? new Float32Array(requireWeight(layer, 'gamma').data.length),
    mean: requireWeight(layer, 'moving_mean').data,
    variance: requireWeight(layer, 'moving_variance').data,
    epsilon,
  };
}

/**
 * Converts a single-input, single-output model (pass `embeddingModel(model)` for a softmax model) to
 * an ONNX model description; `encodeModel` (or `convertToOnnx`) makes the file's bytes.
 */
export function toOnnxModel(model: tfl.LayersModel, opts: ConvertOptions): OnnxModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new DataFileError(
      `ONNX export: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs, expected 1 and 1`,
      'ONNX_UNSUPPORTED_LAYER',
    );
  const outputLayer = model.outputLayers[0];
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  /** ONNX tensor holding each converted layer's output. */
  const tensorOf = new Map<string, string>();
  /** Rank of each ONNX tensor (the batch included). */
  const rankOf = new Map<string, number>();
  /** Batch norms already folded into the convolution before them. */
  const folded = new Set<string>();
  let inputShape4: [number, number] | undefined;

  const head = opts.head ?? PLAIN_HEAD;
  const outName = (layer: Layer): string => {
    if (layer === outputLayer) return isPlainHead(head) ? ONNX_OUTPUT : NETWORK_OUTPUT;
    return layer.name === ONNX_INPUT || layer.name === ONNX_OUTPUT ? `${layer.name}_` : layer.name;
  };
  const addInit = (name: string, dims: number[], data: Float32Array | BigInt64Array): string => {
    initializers.push({ name, dims, data });
    return name;
  };
  const inputOf = (layer: Layer): string => {
    const inbound = onlyNode(layer).inboundLayers;
    if (inbound.length !== 1) throw new UnsupportedLayerError(layer, `has ${inbound.length} inputs`);
    const t = tensorOf.get(inbound[0].name);
    if (t === undefined)
      throw new UnsupportedLayerError(layer, `reads '${inbound[0].name}', which was not converted before it`);
    return t;
  };
  const emit = (
    opType: string,
    inputs: string[],
    output: string,
    rank: number,
    attributes?: Record<string, OnnxAttribute>,
  ): string => {
    nodes.push({ opType, inputs, outputs: [output], name: output, attributes });
    rankOf.set(output, rank);
    return output;
  };
  /** x / sqrt(max(Σ x², ε)) over axis 1 of a [N, D] tensor, the same operations in the same order as l2NormalizeRows. */
  const l2Normalize = (x: string, prefix: string, epsilon: number, out: string): string => {
    // ReduceSumSquare takes its axes as an attribute up to opset 17 (an input from 18).
    const sumSquares = emit('ReduceSumSquare', [x], `${prefix}/sumsq`, 2, {
      axes: attr.ints([1]),
      keepdims: attr.int(1),
    });
    const eps = addInit(`${prefix}/eps`, [], Float32Array.of(epsilon));
    const floored = emit('Max', [sumSquares, eps], `${prefix}/floored`, 2);
    const norm = emit('Sqrt', [floored], `${prefix}/norm`, 2);
    return emit('Div', [x, norm], out, 2);
  };
  /** The layer's own op, then its activation if any; records the layer's output tensor. */
  const finish = (
    layer: Layer,
    produce: (output: string) => void,
    activation: string | null,
    rank: number,
  ) => {
    const out = outName(layer);
    if (activation === null) {
      produce(out);
    } else {
      const pre = `${layer.name}/preact`;
      produce(pre);
      emit(activation, [pre], out, rank);
    }
    rankOf.set(out, rank);
    tensorOf.set(layer.name, out);
  };
  const requireRank = (layer: Layer, x: string, rank: number) => {
    if (rankOf.get(x) !== rank)
      throw new UnsupportedLayerError(layer, `needs a rank-${rank} input, got rank ${rankOf.get(x)}`);
  };

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = configOf(layer);
    if (folded.has(layer.name)) continue;
    switch (cls) {
      case 'InputLayer': {
        const shape = cfg.batchInputShape as (number | null)[] | undefined;
        if (
          shape?.length !== 4 ||
          shape[3] !== 1 ||
          typeof shape[1] !== 'number' ||
          typeof shape[2] !== 'number'
        )
          throw new UnsupportedLayerError(
            layer,
            `needs input shape [null,H,W,1], got ${JSON.stringify(shape)}`,
          );
        if (inputShape4) throw new UnsupportedLayerError(layer, 'is a second input');
        inputShape4 = [shape[1], shape[2]];
        rankOf.set(ONNX_INPUT, 4);
        if (head.flipAverage) {
          // The mirror images (width reversed) after the images, one batch for the network.
          const reversed = BigInt64Array.from({ length: shape[2] }, (_, i) => BigInt(shape[2]! - 1 - i));
          const indices = addInit('input/mirror_indices', [shape[2]], reversed);
          const mirrored = emit('Gather', [ONNX_INPUT, indices], 'input/mirror', 4, { axis: attr.int(3) });
          emit('Concat', [ONNX_INPUT, mirrored], VIEWS, 4, { axis: attr.int(0) });
        }
        tensorOf.set(layer.name, head.flipAverage ? VIEWS : ONNX_INPUT);
        break;
      }
      case 'Conv2D': {
        if (cfg.dataFormat !== 'channelsLast')
          throw new UnsupportedLayerError(layer, `has dataFormat ${cfg.dataFormat}`);
        const x = inputOf(layer);
        requireRank(layer, x, 4);
        const [kh, kw] = pairOf(layer, cfg, 'kernelSize');
        const strides = pairOf(layer, cfg, 'strides');
        const dilations = pairOf(layer, cfg, 'dilationRate');
        const kernel = requireWeight(layer, 'kernel');
        const [, , cin, cout] = kernel.shape;
        // HWIO → OIHW, in float64 until the (possibly folded) values are final.
        const w = new Float64Array(cout * cin * kh * kw);
        for (let h = 0; h < kh; h++)
          for (let wi = 0; wi < kw; wi++)
            for (let i = 0; i < cin; i++)
              for (let o = 0; o < cout; o++)
                w[((o * cin + i) * kh + h) * kw + wi] = kernel.data[((h * kw + wi) * cin + i) * cout + o];
        const b = new Float64Array(cout);
        if (cfg.useBias === true) b.set(requireWeight(layer, 'bias').data);
        const activation = activationOp(layer, cfg.activation);
        let target: Layer = layer;
        const next = layer.outboundNodes.length === 1 ? layer.outboundNodes[0].outboundLayer : undefined;
        if (activation === null && next?.getClassName() === 'FastBatchNorm' && layer !== outputLayer) {
          const bn = batchNormParams(next);
          for (let o = 0; o < cout; o++) {
            const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
            for (let j = o * cin * kh * kw; j < (o + 1) * cin * kh * kw; j++) w[j] *= scale;
            b[o] = (b[o] - bn.mean[o]) * scale + bn.beta[o];
          }
          folded.add(next.name);
          target = next;
        }
        const [ih, iw] = spatialSize(layer);
        let pads = [0, 0, 0, 0];
        if (cfg.padding === 'same') {
          const [hb, he] = samePads(ih, kh, strides[0], dilations[0]);
          const [wb, we] = samePads(iw, kw, strides[1], dilations[1]);
          pads = [hb, wb, he, we];
        } else if (cfg.padding !== 'valid') {
          throw new UnsupportedLayerError(layer, `has padding '${cfg.padding}'`);
        }
        const wName = addInit(`${layer.name}/W`, [cout, cin, kh, kw], Float32Array.from(w));
        const bName = addInit(`${layer.name}/B`, [cout], Float32Array.from(b));
        finish(
          target,
          (out) =>
            emit('Conv', [x, wName, bName], out, 4, {
              kernel_shape: attr.ints([kh, kw]),
              strides: attr.ints(strides),
              dilations: attr.ints(dilations),
              pads: attr.ints(pads),
              group: attr.int(1),
            }),
          activation,
          4,
        );
        break;
      }
      case 'FastBatchNorm': {
        // Not after a linear convolution: a BatchNormalization node over the channel axis (1 in NCHW).
        const x = inputOf(layer);
        const rank = rankOf.get(x)!;
        if (rank !== 2 && rank !== 4)
          throw new UnsupportedLayerError(layer, `needs a rank-2 or rank-4 input, got ${rank}`);
        const bn = batchNormParams(layer);
        const c = bn.gamma.length;
        const inputs = [
          x,
          addInit(`${layer.name}/scale`, [c], bn.gamma),
          addInit(`${layer.name}/B`, [c], bn.beta),
          addInit(`${layer.name}/mean`, [c], bn.mean),
          addInit(`${layer.name}/var`, [c], bn.variance),
        ];
        finish(
          layer,
          (out) => emit('BatchNormalization', inputs, out, rank, { epsilon: attr.float(bn.epsilon) }),
          null,
          rank,
        );
        break;
      }
      case 'ReLU': {
        const x = inputOf(layer);
        const rank = rankOf.get(x)!;
        const max = cfg.maxValue;
        if (max === undefined || max === null) {
          finish(layer, (out) => emit('Relu', [x], out, rank), null, rank);
        } else if (typeof max === 'number') {
          const lo = addInit(`${layer.name}/min`, [], Float32Array.of(0));
          const hi = addInit(`${layer.name}/max`, [], Float32Array.of(max));
          finish(layer, (out) => emit('Clip', [x, lo, hi], out, rank), null, rank);
        } else {
          throw new UnsupportedLayerError(layer, `has maxValue ${JSON.stringify(max)}`);
        }
        break;
      }
      case 'Activation': {
        const x = inputOf(layer);
        const rank = rankOf.get(x)!;
        const op = activationOp(layer, cfg.activation);
        if (op === null) finish(layer, (out) => emit('Identity', [x], out, rank), null, rank);
        else finish(layer, (out) => emit(op, [x], out, rank), null, rank);
        break;
      }
      case 'Dropout': {
        // Identity at inference.
        const x = inputOf(layer);
        const rank = rankOf.get(x)!;
        finish(layer, (out) => emit('Identity', [x], out, rank), null, rank);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if (cfg.dataFormat !== 'channelsLast')
          throw new UnsupportedLayerError(layer, `has dataFormat ${cfg.dataFormat}`);
        const x = inputOf(layer);
        requireRank(layer, x, 4);
        const [kh, kw] = pairOf(layer, cfg, 'poolSize');
        const strides = pairOf(layer, cfg, cfg.strides == null ? 'poolSize' : 'strides');
        const [ih, iw] = spatialSize(layer);
        let pads = [0, 0, 0, 0];
        if (cfg.padding === 'same') {
          const [hb, he] = samePads(ih, kh, strides[0]);
          const [wb, we] = samePads(iw, kw, strides[1]);
          pads = [hb, wb, he, we];
        } else if (cfg.padding !== 'valid') {
          throw new UnsupportedLayerError(layer, `has padding '${cfg.padding}'`);
        }
        const attributes: Record<string, OnnxAttribute> = {
          kernel_shape: attr.ints([kh, kw]),
          strides: attr.ints(strides),
          pads: attr.ints(pads),
        };
        // TF averages over the pixels inside the image only.
        if (cls === 'AveragePooling2D') attributes.count_include_pad = attr.int(0);
        const op = cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        finish(layer, (out) => emit(op, [x], out, 4, attributes), null, 4);
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        if (cfg.dataFormat !== 'channelsLast')
          throw new UnsupportedLayerError(layer, `has dataFormat ${cfg.dataFormat}`);
        if (cfg.keepDims === true) throw new UnsupportedLayerError(layer, 'keeps dims');
        const x = inputOf(layer);
        requireRank(layer, x, 4);
        const pooled = `${layer.name}/pool`;
        emit(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], pooled, 4);
        finish(layer, (out) => emit('Flatten', [pooled], out, 2, { axis: attr.int(1) }), null, 2);
        break;
      }
      case 'Flatten': {
        const x = inputOf(layer);
        const rank = rankOf.get(x)!;
        let src = x;
        if (rank === 4) {
          // tfjs flattens NHWC: back to that order first.
          src = emit('Transpose', [x], `${layer.name}/nhwc`, 4, { perm: attr.ints([0, 2, 3, 1]) });
        }
        finish(layer, (out) => emit('Flatten', [src], out, 2, { axis: attr.int(1) }), null, 2);
        break;
      }
      case 'Dense': {
        const x = inputOf(layer);
        requireRank(layer, x, 2);
        const kernel = requireWeight(layer, 'kernel');
        const [units] = kernel.shape.slice(1);
        const k = addInit(`${layer.name}/W`, kernel.shape, kernel.data);
        const activation = activationOp(layer, cfg.activation);
        if (cfg.useBias === true) {
          const b = addInit(`${layer.name}/B`, [units], requireWeight(layer, 'bias').data);
          finish(layer, (out) => emit('Gemm', [x, k, b], out, 2), activation, 2);
        } else {
          finish(layer, (out) => emit('MatMul', [x, k], out, 2), activation, 2);
        }
        break;
      }
      case 'L2Normalize': {
        const x = inputOf(layer);
        requireRank(layer, x, 2);
        const epsilon = cfg.epsilon;
        if (typeof epsilon !== 'number' || !(epsilon > 0))
          throw new UnsupportedLayerError(layer, `has epsilon ${JSON.stringify(epsilon)}`);
        finish(layer, (out) => l2Normalize(x, layer.name, epsilon, out), null, 2);
        break;
      }
      default:
        throw new UnsupportedLayerError(layer, 'has no ONNX conversion');
    }
  }

  if (!inputShape4)
    throw new DataFileError('ONNX export: the model has no InputLayer', 'ONNX_UNSUPPORTED_LAYER');
  const outShape = outputLayer.outputShape as (number | null)[];
  if (!isPlainHead(head)) emitHead(head, outShape[1], opts.proxies, { emit, addInit, l2Normalize });
  if (tensorOf.get(outputLayer.name) !== (isPlainHead(head) ? ONNX_OUTPUT : NETWORK_OUTPUT))
    throw new UnsupportedLayerError(outputLayer, 'did not produce the output');
  if (outShape.length !== 2 || typeof outShape[1] !== 'number' || rankOf.get(ONNX_OUTPUT) !== 2)
    throw new UnsupportedLayerError(outputLayer, `must output [N, dim], got ${JSON.stringify(outShape)}`);
  const dim = outShape[1];
  return {
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString: `Embedding of model '${opts.name}' exported from tfjs-layers`,
    graph: {
      name: opts.name,
      nodes,
      initializers,
      inputs: [{ name: ONNX_INPUT, elemType: 'float32', shape: ['N', 1, inputShape4[0], inputShape4[1]] }],
      outputs: [{ name: ONNX_OUTPUT, elemType: 'float32', shape: ['N', dim] }],
    },
    metadata: {
      [META_MODEL_NAME]: opts.name,
      [META_WEIGHTS_SHA256]: opts.digest,
      [META_MODEL_VERSION]: formatModelVersion(opts.name, opts.digest),
      [META_EMBEDDING_DIM]: String(dim),
    },
  };
}

interface GraphWriter {
  emit(
    opType: string,
    inputs: string[],
    output: string,
    rank: number,
    attributes?: Record<string, OnnxAttribute>,
  ): string;
  addInit(name: string, dims: number[], data: Float32Array | BigInt64Array): string;
  l2Normalize(x: string, prefix: string, epsilon: number, out: string): string;
}

/**
 * The embedding head (src/model/embeddingHead.ts) after the network's unit embedding NETWORK_OUTPUT,
 * ending in ONNX_OUTPUT: the operations of applyEmbeddingHead in the same order.
 */
function emitHead(
  head: EmbeddingHead,
  dim: number | null,
  proxies: Float32Array | undefined,
  g: GraphWriter,
): void {
  if (typeof dim !== 'number')
    throw new DataFileError('ONNX export: the embedding has no fixed size', 'ONNX_UNSUPPORTED_LAYER');
  let x = NETWORK_OUTPUT;
  if (head.flipAverage) {
    // [2N, D] → [2, N, D]: the images' embeddings, then their mirror images'; their mean, back on the sphere.
    const shape = g.addInit('head/views_shape', [3], BigInt64Array.of(2n, -1n, BigInt(dim)));
    x = g.emit('Reshape', [x, shape], 'head/views', 3);
    x = g.emit('ReduceMean', [x], 'head/mean', 2, { axes: attr.ints([0]), keepdims: attr.int(0) });
    x = g.l2Normalize(x, 'head/mean_norm', L2_EPSILON, head.classPull ? 'head/averaged' : ONNX_OUTPUT);
  }
  const pull = head.classPull;
  if (!pull) return;
  if (!proxies)
    throw new DataFileError('ONNX export: the class pull needs the class proxies', 'ONNX_UNSUPPORTED_LAYER');
  const classes = proxies.length / dim;
  const transposed = new Float32Array(dim * classes);
  for (let c = 0; c < classes; c++)
    for (let d = 0; d < dim; d++) transposed[d * classes + c] = proxies[c * dim + d];
  const toClasses = g.addInit('head/proxies_t', [dim, classes], transposed);
  const fromClasses = g.addInit('head/proxies', [classes, dim], proxies);
  const scale = g.addInit('head/scale', [], Float32Array.of(pull.scale));
  const weight = g.addInit('head/weight', [], Float32Array.of(pull.weight));
  const cosines = g.emit('MatMul', [x, toClasses], 'head/cosines', 2);
  const scaled = g.emit('Mul', [cosines, scale], 'head/scaled', 2);
  const probabilities = g.emit('Softmax', [scaled], 'head/probabilities', 2, { axis: attr.int(1) });
  const toward = g.emit('MatMul', [probabilities, fromClasses], 'head/toward', 2);
  const step = g.emit('Mul', [toward, weight], 'head/step', 2);
  const pulled = g.emit('Add', [x, step], 'head/pulled', 2);
  g.l2Normalize(pulled, 'head/pulled_norm', L2_EPSILON, ONNX_OUTPUT);
}

/** The bytes of the `.onnx` file of a single-input, single-output model. */
export function convertToOnnx(model: tfl.LayersModel, opts: ConvertOptions): Uint8Array {
  return encodeModel(toOnnxModel(model, opts));
}
