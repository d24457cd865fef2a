/**
 * Raw HTTP/1.1 over a TCP socket, for requests no HTTP client would send
 * (garbage request lines, broken framing, oversized headers): writes the
 * bytes, reads until the server closes (or a time limit), and parses every
 * response on the wire.
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  responses: RawResponse[];
  /** Whether the connection ended (the server closed it) before the time limit. */
  closed: boolean;
  raw: string;
}

/** Parses consecutive HTTP/1.1 responses (Content-Length framed, as this server sends errors). */
export function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) break;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    out.push({ status: Number(match[1]), headers, body: rest.slice(bodyStart, bodyStart + length) });
    rest = rest.slice(bodyStart + length);
  }
  return out;
}

/**
 * Sends `chunks` (with `gapMs` between them), then reads until the server
 * closes, `timeoutMs` passes or `responses` complete responses have arrived.
 */
export function exchange(
  port: number,
  chunks: (string | Buffer)[] | string | Buffer,
  options: { timeoutMs?: number; gapMs?: number; end?: boolean; responses?: number } = {},
): Promise<RawExchange> {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let timedOut = false;
    const finish = () => {
      clearTimeout(timer);
      const raw = Buffer.concat(parts).toString('latin1');
      resolve({ responses: parseResponses(raw), closed: !timedOut, raw });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, options.timeoutMs ?? 5000);
    socket.on('data', (d) => {
      parts.push(d);
      // Enough complete responses: no need to wait for a keep-alive connection to close.
      if (
        options.responses &&
        parseResponses(Buffer.concat(parts).toString('latin1')).length >= options.responses
      ) {
        timedOut = true;
        socket.destroy();
      }
    });
    socket.on('close', finish);
    socket.on('error', () => {});
    socket.on('connect', async () => {
      for (const [i, chunk] of list.entries()) {
        if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        if (socket.destroyed) return;
        socket.write(chunk);
      }
      if (options.end) socket.end();
    });
  });
}
