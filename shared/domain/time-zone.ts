/**
 * IANA time zone names (`Asia/Shanghai`, `UTC`, `Etc/GMT-8`), as the policy, the history import and
 * EventBridge Scheduler take them. Since Node 22 (ECMA-402 2024) `Intl` also accepts UTC offsets such
 * as `+08:00`; those are refused here: an offset has no daylight-saving rules, and Scheduler rejects it.
 */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export function isIanaTimeZone(zone: string): boolean {
  if (!IANA_NAME.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
