import pg from 'pg';
import { createLogger } from '../../log.ts';
import type { ChangeListener } from '../asyncStore.ts';
import { toDomainError } from './pgErrors.ts';

const log = createLogger('catalog');

/** The channel the `changes_notify` trigger of migration 0001 notifies. */
export const CHANGES_CHANNEL = 'catalog_changes';
/** First wait before reconnecting a lost LISTEN connection; doubles up to the maximum while the server stays away. */
export const LISTEN_RECONNECT_MIN_MS = 100;
export const LISTEN_RECONNECT_MAX_MS = 5000;

/**
 * LISTENs on a dedicated connection and calls `onWake` with the number each
 * notification carries. When the connection is lost it reconnects with
 * backoff and then calls `onWake(latestSeq())`, because notifications sent
 * while it was away are gone for good. Resolves once the first LISTEN is in
 * place; rejects (NotReadyError) when the server cannot be reached then.
 */
export async function listenForChanges(
  config: pg.ClientConfig,
  onWake: (seq: number) => void,
  latestSeq: () => Promise<number>,
): Promise<ChangeListener> {
  let current: pg.Client | null = null;
  let closed = false;
  let delay = LISTEN_RECONNECT_MIN_MS;
  let retry: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    // keepAlive: a silently dead link (the server's machine gone) is noticed, not waited on forever.
    const client = new pg.Client({ ...config, application_name: 'fashion-similar listen', keepAlive: true });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL) return;
      const seq = Number(msg.payload);
      if (Number.isFinite(seq)) onWake(seq);
    });
    // 'error' and 'end' both follow a lost connection; only the live client may schedule a reconnect.
    client.on('error', (err) => lost(client, err));
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      client.end().catch(() => {});
      throw toDomainError(err);
    }
    if (closed) {
      await client.end();
      return;
    }
    current = client;
  };

  const reconnect = (): void => {
    retry = setTimeout(async () => {
      retry = null;
      try {
        await connect();
        delay = LISTEN_RECONNECT_MIN_MS;
        if (!closed) onWake(await latestSeq());
      } catch (err) {
        if (closed) return;
        log.warn({ err: (err as Error).message, retryMs: delay }, 'LISTEN reconnect failed');
        delay = Math.min(delay * 2, LISTEN_RECONNECT_MAX_MS);
        reconnect();
      }
    }, delay);
    retry.unref();
  };

  const lost = (client: pg.Client, err?: Error): void => {
    if (closed || client !== current) return;
    current = null;
    log.warn({ err: err?.message }, 'LISTEN connection lost; reconnecting');
    client.end().catch(() => {});
    reconnect();
  };

  await connect();
  return {
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      const client = current;
      current = null;
      await client?.end().catch(() => {});
    },
  };
}
