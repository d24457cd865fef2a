/**
 * `npm run export:onnx -- --model models/NAME`: writes models/NAME/model.onnx, the embedding network
 * for ONNX Runtime, from the saved tfjs model (model.json, weights.bin, metadata.json). Prints the
 * result as JSON on stdout.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../log.ts';
import { initBackend } from '../model/backend.ts';
import { exportOnnx } from '../model/onnx/export.ts';

const USAGE = `Usage: npm run export:onnx -- --model models/NAME

Writes model.onnx (ONNX opset 17, input 'image' float32 [N,1,28,28], output 'embedding' float32
[N,64]) beside model.json, with metadata.json's embedding head (npm run model:head) as nodes of the
graph, and the digest of weights.bin and that head in its metadata so a stale file is refused at
load. TFJS_BACKEND picks the tfjs backend that reads the weights.
`;

const log = createLogger('export-onnx');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.model) {
    process.stderr.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const backend = await initBackend();
  const started = performance.now();
  const result = await exportOnnx(values.model);
  const summary = { ...result, backend, seconds: (performance.now() - started) / 1000 };
  log.info(summary, 'ONNX model written');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
});
