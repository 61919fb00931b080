import { kmsServiceKeys } from '../../shared/clients/kms';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { createRuntime } from '../../shared/handlers/runtime';

/**
 * The runtime a handler with every adapter builds (timers and service keys), from the environment the
 * test stubbed: what the agent API, the widest of the functions, gets at its cold start.
 */
export function handlerRuntime() {
  return createRuntime({ timers: eventBridgeTimers, keys: kmsServiceKeys });
}
