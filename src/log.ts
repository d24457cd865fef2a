import pino, { type Logger } from 'pino';

/** One structured JSON logger for CLIs and the server; LOG_LEVEL picks the level. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level });
}

export const log = createLogger('fashion-similar');
export type { Logger };

/** The logging methods the layers below HTTP use: satisfied by a pino logger and by Fastify's. */
export type LogSink = Pick<Logger, 'fatal' | 'error' | 'warn' | 'info' | 'debug'>;
