import { afterEach, describe, expect, it } from 'vitest';
import { createDeliveryEngine, type DeliveryEngine } from '../../infra/local/delivery/engine';

const engines: DeliveryEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

const until = async (condition: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('a delivery with its own backoff (Lambda asynchronous retries)', () => {
  it('waits its own delay before retrying, while the engine retries other deliveries on its own schedule', async () => {
    const engine = createDeliveryEngine({
      backoff: { firstDelayMs: 20, maxDelayMs: 40, jitter: 0 },
      log: () => undefined,
    });
    engines.push(engine);
    const attempts = new Map<string, number>();
    engine.register('test', {
      async attempt(delivery) {
        attempts.set(delivery.key, (attempts.get(delivery.key) ?? 0) + 1);
        return { status: 'failed', code: 'Boom', message: 'keeps failing' };
      },
      async deadLetter() {
        return 'dropped';
      },
    });
    await engine.start();
    engine.accept(
      'test',
      'slow',
      {},
      {
        maximumRetryAttempts: 2,
        maximumEventAgeSeconds: 3600,
        backoff: { firstDelayMs: 60_000, maxDelayMs: 120_000, jitter: 0 },
      },
    );
    engine.accept('test', 'engine', {}, { maximumRetryAttempts: 2, maximumEventAgeSeconds: 3600 });
    // The delivery on the engine's backoff uses up its three attempts in a fraction of a second…
    await until(() => (attempts.get('engine') ?? 0) >= 3);
    expect(attempts.get('engine')).toBe(3);
    // …while the one with a minute's backoff has had its first attempt only, and is still pending.
    expect(attempts.get('slow')).toBe(1);
    expect(engine.stats('test').slow).toMatchObject({ pending: 1, dropped: 0 });
  });
});
