import { resourcesOfType, type StackTemplate } from './template';

/**
 * API Gateway's throttling for the local HTTP API: a token bucket per route, as an HTTP API stage
 * applies it — `RouteSettings[<route key>]` of the stage where set, else its
 * `DefaultRouteSettings` (each route its own bucket). The bucket holds `burst` tokens and refills
 * at `rate` per second; a request takes one, and without one it is refused with API Gateway's
 * answer, 429 `{"message":"Too Many Requests"}`, before the function (or the authorizer) runs.
 *
 * Not reproduced: the account-level limit per Region (10,000 requests/s by default) and AWS's
 * best-effort slack ("targets rather than guaranteed ceilings").
 */

export interface ThrottleLimit {
  /** Steady-state requests per second. */
  rate: number;
  /** Bucket size: requests that may arrive at once. */
  burst: number;
}

export interface ThrottleSettings {
  /** The stage default, applied to every route without its own (absent: unthrottled). */
  default?: ThrottleLimit;
  /** Per route key, e.g. `POST /complaints`. */
  routes?: Readonly<Record<string, ThrottleLimit>>;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: ThrottleLimit,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = limit.burst;
    this.last = clock();
  }

  /** Takes a token if there is one. */
  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One bucket per route key, created on first use from the settings. */
export class RouteThrottle {
  private readonly buckets = new Map<string, TokenBucket | null>();

  constructor(
    private readonly settings: ThrottleSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether a request to this route may pass now. */
  admit(routeKey: string): boolean {
    let bucket = this.buckets.get(routeKey);
    if (bucket === undefined) {
      const limit = this.settings.routes?.[routeKey] ?? this.settings.default;
      bucket = limit === undefined ? null : new TokenBucket(limit, this.clock);
      this.buckets.set(routeKey, bucket);
    }
    return bucket === null || bucket.take();
  }
}

function limitOf(settings: unknown): ThrottleLimit | undefined {
  if (settings === null || typeof settings !== 'object') return undefined;
  const { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst } = settings as Record<string, unknown>;
  if (rate === undefined && burst === undefined) return undefined;
  // One of the two unset: API Gateway leaves that side to the account limits.
  return {
    rate: rate === undefined ? 10_000 : Number(rate),
    burst: burst === undefined ? 5_000 : Number(burst),
  };
}

/** The throttles of the template's (first) HTTP API stage. */
export function throttlesFromTemplate(
  template: StackTemplate,
  resolver: { resolve(value: unknown): unknown } = { resolve: (value) => value },
): ThrottleSettings {
  const [stage] = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  if (stage === undefined) return {};
  const p = (resolver.resolve(stage[1].Properties ?? {}) ?? {}) as Record<string, unknown>;
  const defaultLimit = limitOf(p.DefaultRouteSettings);
  const routes: Record<string, ThrottleLimit> = {};
  for (const [key, settings] of Object.entries((p.RouteSettings ?? {}) as Record<string, unknown>)) {
    const limit = limitOf(settings);
    if (limit !== undefined) routes[key] = limit;
  }
  return { ...(defaultLimit === undefined ? {} : { default: defaultLimit }), routes };
}
