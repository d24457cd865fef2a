/**
 * `npm run model:head -- --model models/NAME [--flip-average] [--class-pull W] [--pull-scale S]`:
 * records the embedding head (src/model/embeddingHead.ts) in the model's metadata.json and exports
 * model.onnx with it. The model version changes with the head, so a catalog embedded with the old
 * one is embedded again on the next start (or `npm run catalog:embed`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.ts';
import { initBackend } from '../model/backend.ts';
import { EMBEDDING_HEAD_KEY, headFromOptions } from '../model/embeddingHead.ts';
import { writeFileAtomic } from '../model/modelIo.ts';
import { METADATA_FILE } from '../model/modelVersion.ts';
import { onnxBytesOf } from '../model/onnx/export.ts';
import { ONNX_FILE } from '../model/onnx/format.ts';

const USAGE = `Usage: npm run model:head -- --model models/NAME [--flip-average] [--class-pull W] [--pull-scale S]

  --flip-average   embed each image and its mirror image, and average the two
  --class-pull W   move each embedding toward its classes' vectors of the cosine head, by W (> 0)
  --pull-scale S   softmax scale of the class cosines (default: the model's --cos-scale)

Without options the head is removed (the network's embedding as it is). Writes metadata.json and
model.onnx; prints the new model version as JSON on stdout.
`;

const log = createLogger('model-head');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'flip-average': { type: 'boolean', default: false },
      'class-pull': { type: 'string' },
      'pull-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.model) {
    process.stderr.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const dir = values.model;
  const metadataPath = join(dir, METADATA_FILE);
  const metadata = JSON.parse(await readFile(metadataPath, 'utf8')) as Record<string, unknown>;
  const trainedScale = (metadata.hyperParameters as { cosScale?: unknown } | undefined)?.cosScale;
  const head = headFromOptions(
    values['flip-average'],
    values['class-pull'] === undefined
      ? null
      : {
          weight: Number(values['class-pull']),
          scale: values['pull-scale'] === undefined ? trainedScale : Number(values['pull-scale']),
        },
    'the options',
  );
  await initBackend();
  const { bytes, modelVersion } = await onnxBytesOf(dir, head);
  await writeFileAtomic(
    metadataPath,
    `${JSON.stringify({ ...metadata, [EMBEDDING_HEAD_KEY]: head }, null, 2)}\n`,
  );
  await writeFileAtomic(join(dir, ONNX_FILE), bytes);
  const summary = { model: dir, head, modelVersion };
  log.info(summary, 'embedding head recorded, model.onnx written');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
});
