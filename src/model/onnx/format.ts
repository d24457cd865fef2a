/**
 * What an exported model.onnx looks like to its readers (no tfjs here): the file name, the graph's
 * input and output names, and the metadata_props keys the exporter writes.
 */

/** The ONNX file of a model directory, beside model.json and weights.bin. */
export const ONNX_FILE = 'model.onnx';
/** float32 [N, 1, 28, 28]: the same buffer as tfjs' NHWC [N, 28, 28, 1]. */
export const ONNX_INPUT = 'image';
/** float32 [N, dim]. */
export const ONNX_OUTPUT = 'embedding';

/** sha256 hex of the weights.bin the file was exported from: a mismatch at load means it is stale. */
export const META_WEIGHTS_SHA256 = 'weights_sha256';
export const META_MODEL_NAME = 'model_name';
/** `name@sha256[0:12]`, as Embedder.modelVersion. */
export const META_MODEL_VERSION = 'model_version';
export const META_EMBEDDING_DIM = 'embedding_dim';
