/** The real server with the web page (registered by the app itself), as test/server/harness.ts starts it. */
import { type Prepared, startServer, type TestServer } from '../server/harness.ts';

export type WebServer = TestServer;

export function startWithPage(prepared: Prepared, env: Record<string, string>): Promise<WebServer> {
  return startServer(prepared, env);
}
