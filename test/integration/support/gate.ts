import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP rendezvous for functions running in other processes, so tests prove overlap without timing:
 * - `GET /barrier/<key>/<n>` answers once `n` requests for `key` have arrived (all of them at once);
 * - `GET /hold/<key>` answers when the test calls `release(key)` (or at once if already released);
 * - `GET /seen/<key>` answers at once; every request is counted per key (`arrivals`).
 */
export interface Gate {
  url: string;
  arrivals(key: string): number;
  release(key: string): void;
  close(): Promise<void>;
}

export async function startGate(): Promise<Gate> {
  const counts = new Map<string, number>();
  const waiting = new Map<string, ServerResponse[]>();
  const released = new Set<string>();
  const answer = (key: string) => {
    for (const res of waiting.get(key) ?? []) res.end('ok');
    waiting.delete(key);
  };
  const server = createServer((req, res) => {
    const [, kind, key = '', n] = (req.url ?? '').split('/');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (kind === 'seen' || (kind === 'hold' && released.has(key))) {
      res.end('ok');
      return;
    }
    waiting.set(key, [...(waiting.get(key) ?? []), res]);
    if (kind === 'barrier' && (counts.get(key) ?? 0) >= Number(n)) answer(key);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals: (key) => counts.get(key) ?? 0,
    release(key) {
      released.add(key);
      answer(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const key of [...waiting.keys()]) answer(key);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
