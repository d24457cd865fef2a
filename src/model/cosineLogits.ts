import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DataFileError } from '../errors.ts';
import { unitProxies } from './embeddingHead.ts';
import { l2NormalizeRows } from './l2Normalize.ts';

type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

export interface CosineLogitsArgs {
  units: number;
  name?: string;
  /** Seeded initializer of the class weights. */
  kernelInitializer?: Initializer;
}

/**
 * One weight vector per class, compared with the (unit) embedding by cosine: output [N, units] =
 * x · (W / ‖W‖ per column). The inputs must already be unit vectors (the l2 embedding norm); then each
 * output is the cosine of the angle to a class, the quantity CosFace puts its margin on. Not part of
 * the served model: serving reads the embedding before it.
 */
export class CosineLogits extends tfl.layers.Layer {
  static readonly className = 'CosineLogits';
  readonly units: number;
  private readonly kernelInitializer: Initializer;
  private kernel: tfl.LayerVariable | null = null;

  constructor(args: CosineLogitsArgs) {
    super({ name: args.name });
    this.units = args.units;
    this.kernelInitializer = args.kernelInitializer ?? tfl.initializers.glorotUniform({});
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const dim = shape[shape.length - 1];
    if (dim === null) throw new Error(`${this.name}: the input's last dimension must be known`);
    this.kernel = this.addWeight('kernel', [dim, this.units], 'float32', this.kernelInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [shape[0], this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const w = (this.kernel as tfl.LayerVariable).read() as tf.Tensor2D;
      // One unit vector per class: the kernel's columns, normalised as rows of its transpose.
      return tf.matMul(x, l2NormalizeRows(tf.transpose(w)), false, true);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

tf.serialization.registerClass(CosineLogits);

/** The unit class weight vectors [classes, dim] of a model's cosine head (`layerName`). */
export function classProxies(model: tfl.LayersModel, layerName: string): Float32Array {
  const layer = model.layers.find((l) => l.name === layerName);
  if (!(layer instanceof CosineLogits))
    throw new DataFileError(
      `model '${model.name}' has no cosine head '${layerName}': the class pull needs its class vectors`,
      'MODEL_FILE_CORRUPT',
    );
  const kernel = layer.getWeights()[0];
  const [dim, classes] = kernel.shape;
  return unitProxies(kernel.dataSync() as Float32Array, dim, classes);
}
