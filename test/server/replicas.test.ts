/**
 * Two replicas as on two machines (issue 13 item 4): separate processes,
 * ports and DATA_DIRs, one PostgreSQL catalog. A write through A is found by
 * /similar on B (woken by LISTEN/NOTIFY: polling is set to 5 s here, so a
 * prompt answer is the notification's), a delete likewise, and a rebuild
 * started on A is taken up by B with its model and index together, B
 * building its own index file from the stored embeddings.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addVisibleLag,
  auth,
  freshImages,
  type ReplicaSet,
  similarIds,
  startReplicas,
  until,
} from '../support/replicas.ts';

const WRITES = 50;
let set: ReplicaSet;

beforeAll(async () => {
  set = await startReplicas(2, 300, { CHANGE_POLL_MS: '5000' });
}, 240_000);

afterAll(async () => {
  await set?.stop();
});

interface StatusBody {
  model: { version: string } | null;
  index: { size: number; build_id: number | null } | null;
}

async function status(base: string): Promise<StatusBody> {
  return (await (await fetch(`${base}/status`)).json()) as StatusBody;
}

describe('replicas sharing one PostgreSQL catalog', () => {
  it('serve the same catalog, each from an index file of its own DATA_DIR', async () => {
    const [a, b] = set.replicas;
    const [sa, sb] = await Promise.all([status(a.base), status(b.base)]);
    expect(sa.index!.build_id!).toBe(sb.index!.build_id!);
    expect(sa.index!.size).toBe(300);
    expect(sb.index!.size).toBe(300);
    for (const r of set.replicas) {
      expect(existsSync(join(r.dataDir, 'index', `index-${sa.index!.build_id!}.bin`))).toBe(true);
    }
  });

  it('make an item added through A findable on B, and a delete through A gone on B', async () => {
    const [a, b] = set.replicas;
    const images = await freshImages(1000, WRITES);
    const lags: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      // Alternate directions: each replica's writes reach the other.
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      lags.push(await addVisibleLag(writer.base, reader.base, `replica-${i}`, images[i]));
    }
    expect(lags).toHaveLength(WRITES);

    const res = await fetch(`${a.base}/items/replica-0`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(204);
    await until(async () => !(await similarIds(b.base, images[0])).includes('replica-0'), 5000);
    expect((await fetch(`${b.base}/items/replica-0`)).status).toBe(404);
  });

  it('take up a rebuild started on A: B swaps to the new build with its model', async () => {
    const [a, b] = set.replicas;
    const before = await status(b.base);
    const started = await fetch(`${a.base}/admin/index/rebuild`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(started.status).toBe(202);
    const job = (await started.json()) as { id: number };
    let buildId = 0;
    await until(
      async () => {
        const j = (await (await fetch(`${a.base}/admin/jobs/${job.id}`, { headers: auth })).json()) as {
          status: string;
          build_id: number;
        };
        if (j.status === 'failed') throw new Error('rebuild failed');
        buildId = j.build_id;
        return j.status === 'active';
      },
      120_000,
      200,
    );
    expect(buildId).toBeGreaterThan(before.index!.build_id!);
    await until(async () => (await status(b.base)).index?.build_id === buildId, 120_000, 200);
    const after = await status(b.base);
    expect(after.model!.version).toBe(before.model!.version);
    expect(after.index!.size).toBe((await status(a.base)).index!.size);
    expect(existsSync(join(b.dataDir, 'index', `index-${buildId}.bin`))).toBe(true);
    // Writes keep flowing after the swap, both ways.
    const [png] = await freshImages(2000, 1);
    expect(await addVisibleLag(b.base, a.base, 'after-rebuild', png)).toBeLessThan(10_000);
  });
});
