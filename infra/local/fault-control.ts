/**
 * The local control endpoint for faults, `GET|PUT|DELETE /_local/faults`, as a plain function of the
 * request method and body so any HTTP server can mount it (the local runtime mounts it on the HTTP
 * API's port with `setLocalRoute`, for callers on this machine only; it is not part of the template's API):
 * - `GET` → 200 `{ profile, down, counts }`: the profile in force, the dependencies in an outage now,
 *   and the faults injected so far by kind;
 * - `PUT` with a JSON fault profile (`{"errors":{"dynamodb":0.1},…}`, see `docs/faults.md`) or a
 *   profile's name as a JSON string (`"light"`) → applies it from now on (outage times count from
 *   now) and answers like `GET`; 400 with the reason for a profile that is not one;
 * - `DELETE` → clears every fault (ends outages) and answers like `GET`.
 */
import { FAULT_PROFILES, InvalidFaultProfileError, parseFaultProfile } from './fault-profiles';
import { FAULT_SERVICES, type Faults } from './faults';

export const FAULT_CONTROL_PATH = '/_local/faults';

export interface ControlAnswer {
  status: number;
  body: unknown;
}

export type FaultControlHandler = (method: string, body: string | undefined) => ControlAnswer;

export function createFaultControl(faults: Faults): FaultControlHandler {
  const state = (): ControlAnswer => ({
    status: 200,
    body: {
      profile: faults.profile(),
      down: FAULT_SERVICES.filter((service) => faults.isDown(service)),
      counts: faults.counts(),
    },
  });
  const badRequest = (message: string): ControlAnswer => ({
    status: 400,
    body: { error: 'InvalidFaultProfile', message },
  });
  return (method, body) => {
    switch (method.toUpperCase()) {
      case 'GET':
        return state();
      case 'DELETE':
        faults.clear();
        return state();
      case 'PUT': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body ?? '');
        } catch {
          return badRequest('the body must be a JSON fault profile, or a profile name as a JSON string');
        }
        if (typeof parsed === 'string') {
          const named = FAULT_PROFILES[parsed];
          if (named === undefined)
            return badRequest(`no profile "${parsed}" (${Object.keys(FAULT_PROFILES).join(', ')})`);
          faults.set(structuredClone(named));
          return state();
        }
        try {
          faults.set(parseFaultProfile(parsed));
        } catch (error) {
          if (error instanceof InvalidFaultProfileError) return badRequest(error.message);
          throw error;
        }
        return state();
      }
      default:
        return { status: 405, body: { error: 'MethodNotAllowed', message: 'GET, PUT or DELETE' } };
    }
  };
}
