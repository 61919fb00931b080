import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts an HTTP server for one of the local AWS endpoints: reads each request's whole body as UTF-8,
 * hands it to `handle`, and resolves once the server listens (on a free port unless `port` is given).
 */
export async function listenWithBody(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  options: { hostname?: string; port?: number } = {},
): Promise<{ server: Server; hostname: string; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, hostname, port };
}
