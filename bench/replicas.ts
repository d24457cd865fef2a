/**
 * Replica write-to-visible lag (issue 13 item 4): two serving processes on
 * their own ports and DATA_DIRs, one throw-away PostgreSQL 15 catalog. Each
 * write is an acknowledged POST /items on one replica (alternating), then
 * /similar on the other is asked every 5 ms until it finds the item. Prints
 * JSON: lag percentiles from the acknowledgement, and the write's own time.
 *
 *   npx tsx bench/replicas.ts [--writes 1000] [--items 500]
 *
 * The lag includes one /similar round trip (embedding the query) and the
 * 5 ms polling step, so it overstates the feed's own delay by a few ms.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { writes: { type: 'string', default: '1000' }, items: { type: 'string', default: '500' } },
});
const WRITES = Number(values.writes);
const ITEMS = Number(values.items);

async function main(): Promise<void> {
  process.env.LOG_LEVEL = 'warn';
  const { buildServer } = await import('./serverProcess.ts');
  const { addItem, freshImages, percentile, similarIds, startReplicas, until } = await import(
    '../test/support/replicas.ts'
  );
  // The replicas run what `npm start` runs: the compiled server.
  buildServer();
  const set = await startReplicas(2, ITEMS);
  try {
    const [a, b] = set.replicas;
    const images = await freshImages(ITEMS, WRITES);
    const lags: number[] = [];
    const acks: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      const started = performance.now();
      const status = await addItem(writer.base, `bench-${i}`, images[i]);
      if (status !== 201) throw new Error(`write ${i}: POST /items answered ${status}`);
      acks.push(performance.now() - started);
      lags.push(
        await until(async () => (await similarIds(reader.base, images[i])).includes(`bench-${i}`), 10_000, 5),
      );
    }
    const summary = (xs: number[]) => {
      const sorted = [...xs].sort((x, y) => x - y);
      const round = (x: number) => Math.round(x * 10) / 10;
      return {
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted[sorted.length - 1]),
        mean: round(sorted.reduce((s, x) => s + x, 0) / sorted.length),
      };
    };
    const lag = summary(lags);
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'replicas',
          replicas: 2,
          catalogItems: ITEMS,
          writes: WRITES,
          store: 'postgresql-15 (throw-away cluster, fsync off)',
          changePollMs: 500,
          addToVisibleMs: lag,
          writeAckMs: summary(acks),
          goal: { p99Ms: 1000, met: lag.p99 <= 1000 },
          loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
          at: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await set.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
