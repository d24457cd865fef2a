import * as tf from '@tensorflow/tfjs-core';
import type { Conv2D as LayersConv2D } from '@tensorflow/tfjs-layers/dist/layers/convolutional.js';

// tfjs-layers' own class, looked up where it registered itself: importing its module file would load a
// second copy of the library beside the bundle that `@tensorflow/tfjs-layers` resolves to.
const [TfjsConv2D] = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D as unknown as [
  typeof LayersConv2D,
];

/**
 * tfjs-layers' Conv2D with one change: a convolution without bias or activation (network H's, a batch
 * norm follows) runs the plain conv2d op instead of the fused one. The fused op's gradient computes the
 * input's gradient eagerly, wanted or not: for the first layer that is the gradient of the image, a
 * full-size convolution per training step that nothing reads. The plain op's gradients are computed on
 * demand. Same class name, configuration and weights, so saved models and the ONNX export are
 * unchanged; registered in its place, loaded models get it too.
 */
export class Conv2D extends TfjsConv2D {
  static override readonly className = 'Conv2D';

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Parameters<LayersConv2D['call']>[1],
  ): tf.Tensor | tf.Tensor[] {
    const linear = this.bias == null && this.activation.getClassName() === 'linear';
    if (
      !linear ||
      this.dataFormat !== 'channelsLast' ||
      (this.padding !== 'same' && this.padding !== 'valid')
    ) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [sh, sw] = this.strides;
      const [dh, dw] = this.dilationRate;
      return tf.conv2d(x, this.kernel.read() as tf.Tensor4D, [sh, sw], this.padding as 'same', 'NHWC', [
        dh,
        dw,
      ]);
    });
  }
}
tf.serialization.registerClass(Conv2D);
