import type { Policy, SeverityRule } from '../policy/schema';
import type { Language, Severity } from '../policy/vocabulary';
import { SEVERITIES } from '../policy/vocabulary';
import type { Classification, ComplaintSubmission, ValidityVerdict } from './complaint';
import type { ComplaintPhase } from './lifecycle';

/**
 * Classification: validity, category, severity, repeat status and priority of a
 * complaint, decided from the policy's keyword lists and thresholds.
 *
 * It is a pure function of (policy, complaint, the customer's recent complaints,
 * now) so it can be unit-tested on real Chinese and English samples and replayed
 * identically after a policy change. Rules are keyword based on purpose: every
 * decision can be explained to an agent or a customer by the keywords and rule
 * ids it records, and a deployer tunes it by editing the policy, not code.
 */

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

/**
 * Canonical form for matching: NFKC (full-width letters, digits and punctuation
 * become half-width, `￥` becomes `¥`), lower case, typographic apostrophes and
 * quotes made plain (phone keyboards type `can’t`), whitespace collapsed.
 * Keywords and text go through the same function, so matching is case- and
 * width-insensitive as the policy schema promises.
 */
export function normalizeText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201f\u2033]/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}

const URL_PATTERN = /(?:https?:\/\/|www\.)[!-~]+/g;
const HAN = /\p{Script=Han}/gu;
const LATIN = /\p{Script=Latin}/gu;

/**
 * Share of Han characters among Han + Latin letters at which a text counts as
 * Chinese. Below one half on purpose: one Chinese character carries about as
 * much as a short English word, so "我的iPhone app登录不了" is Chinese while an
 * English paragraph quoting one Chinese term stays English.
 */
const ZH_SHARE = 0.3;

/**
 * The language a complaint is written in, from the share of CJK (Han)
 * characters among letters; URLs are ignored. Used to pick an agent who can read
 * it and the language of replies. A text without letters gets `fallback`.
 */
export function detectLanguage(text: string, fallback: Language = 'en'): Language {
  const t = text.normalize('NFKC').replace(URL_PATTERN, ' ');
  const han = t.match(HAN)?.length ?? 0;
  const latin = t.match(LATIN)?.length ?? 0;
  if (han + latin === 0) return fallback;
  return han / (han + latin) >= ZH_SHARE ? 'zh' : 'en';
}

/** The customer-written text of a submission that classification reads, fields separated by a space. */
export function complaintText(submission: ComplaintSubmission): string {
  return [submission.title, submission.description, submission.demand, submission.scenario]
    .filter((s): s is string => s !== undefined && s.length > 0)
    .join(' \n ');
}

// ---------------------------------------------------------------------------
// Fingerprints (SimHash)
// ---------------------------------------------------------------------------

function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 units with a final avalanche; two seeds give the two halves of a 64-bit hash. */
function hash32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

const SEED_HIGH = 0x811c9dc5;
const SEED_LOW = 0x5bd1e995;

/** Letters and digits only, one space between runs: punctuation and spacing changes do not move the fingerprint. */
function fingerprintForm(text: string): string[] {
  const tokens = normalizeText(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0);
  return Array.from(tokens.join(' '));
}

/**
 * A 64-bit SimHash (16 hex characters) of the normalised text over character
 * bigrams and trigrams. Similar texts get fingerprints that differ in few bits,
 * so the customer index can store this instead of the raw text and still find
 * a re-submitted complaint (see `fingerprintSimilarity`). Character n-grams work
 * for Chinese, which has no spaces, as well as for English. An empty text gives
 * all zeros.
 */
export function textFingerprint(text: string): string {
  const chars = fingerprintForm(text);
  const votes = new Int32Array(64);
  const add = (feature: string): void => {
    const high = hash32(feature, SEED_HIGH);
    const low = hash32(feature, SEED_LOW);
    for (let bit = 0; bit < 32; bit++) {
      votes[bit] = (votes[bit] ?? 0) + ((high >>> (31 - bit)) & 1 ? 1 : -1);
      votes[32 + bit] = (votes[32 + bit] ?? 0) + ((low >>> (31 - bit)) & 1 ? 1 : -1);
    }
  };
  if (chars.length === 1) add(chars.join(''));
  for (let n = 2; n <= 3; n++) {
    for (let i = 0; i + n <= chars.length; i++) add(chars.slice(i, i + n).join(''));
  }
  let high = 0;
  let low = 0;
  for (let bit = 0; bit < 32; bit++) {
    if ((votes[bit] ?? 0) > 0) high |= 1 << (31 - bit);
    if ((votes[32 + bit] ?? 0) > 0) low |= 1 << (31 - bit);
  }
  return (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0');
}

/** The fingerprint stored with a complaint: title and description, the part a re-submission repeats. */
export function complaintFingerprint(submission: ComplaintSubmission): string {
  return textFingerprint([submission.title, submission.description].filter((s) => s !== undefined).join(' '));
}

const FINGERPRINT_PATTERN = /^[0-9a-f]{16}$/i;

function popcount32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * Similarity of two fingerprints in [0, 1]: 1 − (differing bits / 64).
 * Unrelated texts land around 0.5; a re-submission with small edits above 0.8.
 * A malformed fingerprint (e.g. from an older index format) compares as 0, so
 * it can never make a complaint a duplicate.
 */
export function fingerprintSimilarity(a: string, b: string): number {
  if (!FINGERPRINT_PATTERN.test(a) || !FINGERPRINT_PATTERN.test(b)) return 0;
  const half = (s: string, from: number) => Number.parseInt(s.slice(from, from + 8), 16);
  const distance = popcount32(half(a, 0) ^ half(b, 0)) + popcount32(half(a, 8) ^ half(b, 8));
  return 1 - distance / 64;
}

// ---------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------

const NUMBER = String.raw`(?<![\d.,])(?<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)`;
const CN_MULTIPLIER = '(?<mul>[百千万亿]*)';
/** `¥500`, `$1,299.00`, `RMB 3万`, `$2k`. */
const PREFIXED_AMOUNT = new RegExp(
  String.raw`(?:¥|\$|(?<![a-z])(?:rmb|cny|usd))\s?${NUMBER}\s?(?:(?<k>k)(?![a-z])|${CN_MULTIPLIER})`,
  'g',
);
/** `500元`, `3万元`, `5千块`, `200 yuan`, `1,299.00 rmb`. */
const SUFFIXED_AMOUNT = new RegExp(
  String.raw`${NUMBER}\s?${CN_MULTIPLIER}\s?(?:元|块|(?:rmb|cny|yuan|usd|dollars?)(?![a-z]))`,
  'g',
);
const MULTIPLIERS: Record<string, number> = { 百: 100, 千: 1000, 万: 10_000, 亿: 100_000_000 };

function toAmount(digits: string | undefined, multiplier: string | undefined, k: string | undefined): number {
  if (digits === undefined) return Number.NaN;
  let value = Number.parseFloat(digits.replaceAll(',', ''));
  for (const ch of multiplier ?? '') value *= MULTIPLIERS[ch] ?? 1;
  if (k !== undefined) value *= 1000;
  return value;
}

/**
 * The largest sum of money the text mentions, in the units written (treated as
 * the policy currency), or `undefined`. Only numbers with a currency marker
 * count (`¥ $ RMB CNY USD 元 块 yuan dollars`), so phone numbers, order numbers
 * and "12315" are not money. Thousands separators, decimals and the Chinese
 * multipliers 百/千/万/亿 are understood (`3万元` = 30000). Chinese numerals
 * (五百元) are not. Severity rules compare it with `amountAtLeast`.
 */
export function extractAmount(text: string): number | undefined {
  const t = normalizeText(text);
  let best: number | undefined;
  for (const m of t.matchAll(PREFIXED_AMOUNT)) {
    const value = toAmount(m.groups?.num, m.groups?.mul, m.groups?.k);
    if (Number.isFinite(value) && (best === undefined || value > best)) best = value;
  }
  for (const m of t.matchAll(SUFFIXED_AMOUNT)) {
    const value = toAmount(m.groups?.num, m.groups?.mul, undefined);
    if (Number.isFinite(value) && (best === undefined || value > best)) best = value;
  }
  return best;
}

// ---------------------------------------------------------------------------
// Compiled policy (keyword matchers, cached per policy object)
// ---------------------------------------------------------------------------

interface KeywordMatcher {
  /** The keyword as written in the policy (reported in `matchedKeywords`). */
  readonly keyword: string;
  readonly test: (normalizedText: string) => boolean;
}

interface CompiledCategory {
  readonly id: string;
  readonly weight: number;
  readonly matchers: readonly KeywordMatcher[];
}

interface CompiledRule {
  readonly rule: SeverityRule;
  readonly matchers: readonly KeywordMatcher[] | undefined;
}

interface CompiledPolicy {
  readonly categories: readonly CompiledCategory[];
  readonly rules: readonly CompiledRule[];
  readonly spam: readonly KeywordMatcher[];
  readonly abusive: readonly KeywordMatcher[];
  readonly outOfScope: readonly KeywordMatcher[];
}

const WORD_CHAR = /[\p{Script=Latin}\p{Nd}]/u;
const WORD_BEFORE = String.raw`(?<![\p{Script=Latin}\p{Nd}])`;
const WORD_AFTER = String.raw`(?![\p{Script=Latin}\p{Nd}])`;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`);
}

/**
 * A keyword that starts or ends with a Latin letter or digit must sit on a word
 * boundary at that end ("bug" does not hit "debug", "12315" not "123156"); a
 * Chinese keyword is a plain substring. "bug" still hits "软件bug" because a Han
 * character is not a word character here.
 */
function compileKeyword(keyword: string): KeywordMatcher | undefined {
  const k = normalizeText(keyword);
  if (k.length === 0) return undefined;
  const before = WORD_CHAR.test(k.at(0) ?? '');
  const after = WORD_CHAR.test(k.at(-1) ?? '');
  if (!before && !after) return { keyword, test: (t) => t.includes(k) };
  const re = new RegExp(`${before ? WORD_BEFORE : ''}${escapeRegExp(k)}${after ? WORD_AFTER : ''}`, 'u');
  return { keyword, test: (t) => re.test(t) };
}

function compileKeywords(keywords: { zh: string[]; en: string[] } | undefined): KeywordMatcher[] {
  if (keywords === undefined) return [];
  const seen = new Set<string>();
  const out: KeywordMatcher[] = [];
  for (const keyword of [...keywords.zh, ...keywords.en]) {
    const key = normalizeText(keyword);
    if (seen.has(key)) continue;
    seen.add(key);
    const m = compileKeyword(keyword);
    if (m !== undefined) out.push(m);
  }
  return out;
}

const compiledPolicies = new WeakMap<Policy, CompiledPolicy>();

/** Keyword regexes are built once per policy object, not per complaint. */
function compile(policy: Policy): CompiledPolicy {
  const cached = compiledPolicies.get(policy);
  if (cached !== undefined) return cached;
  const compiled: CompiledPolicy = {
    categories: policy.categories.map((c) => ({
      id: c.id,
      weight: c.weight,
      matchers: compileKeywords(c.keywords),
    })),
    rules: policy.severity.rules.map((rule) => ({
      rule,
      matchers: rule.when.keywords === undefined ? undefined : compileKeywords(rule.when.keywords),
    })),
    spam: compileKeywords(policy.validity.spam.keywords),
    abusive: compileKeywords(policy.validity.abusive.keywords),
    outOfScope: compileKeywords(policy.validity.outOfScope.keywords),
  };
  compiledPolicies.set(policy, compiled);
  return compiled;
}

const anyHit = (matchers: readonly KeywordMatcher[], text: string): boolean =>
  matchers.some((m) => m.test(text));

// ---------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------

/** One of the same customer's earlier complaints, as the by-customer index projects it. */
export interface RecentComplaint {
  id: string;
  number: string;
  /** Absent while that complaint is still waiting to be classified. */
  category?: string | undefined;
  phase: ComplaintPhase;
  /** ISO 8601. */
  receivedAt: string;
  fingerprint: string;
}

/** The complaint to classify. */
export interface ClassificationInput {
  submission: ComplaintSubmission;
  /** Tier id resolved by intake (submission tier or the policy default). */
  tier: string;
  now: Date;
  /** This complaint's id when it is already stored; an entry of `recent` with this id is the complaint itself and is ignored. */
  selfId?: string | undefined;
  /**
   * When this complaint was received (defaults to `now`). Only complaints received
   * before it count as duplicates or repeats, so two quick submissions never
   * reject each other and re-classifying an old complaint ignores later ones.
   */
  receivedAt?: Date | undefined;
}

/** What the caller reads from the store: the customer's complaints of the last `policy.repeat.windowDays`. */
export interface ClassificationContext {
  recent: readonly RecentComplaint[];
}

const MAX_MATCHED_KEYWORDS = 10;
const DAY_MS = 86_400_000;
const MEANINGFUL = /[\p{L}\p{N}]/u;
const LATIN_OR_DIGIT = /[\p{Script=Latin}\p{Nd}]/u;

/**
 * How much a text says, for the `insufficient` check: letters and digits only; a
 * run of one repeated character counts once ("啊啊啊啊", "!!!!" count 1 and 0);
 * a Latin letter or digit counts one half, because a Chinese character carries
 * about as much as two Latin letters. So "asdf" (2) and "垃圾" (2) are too short
 * for the default of 4, while "无法登录" and "app crashes" are not.
 */
export function meaningfulLength(text: string): number {
  let units = 0;
  let previous = '';
  for (const ch of normalizeText(text)) {
    if (ch === previous) continue;
    previous = ch;
    if (!MEANINGFUL.test(ch)) continue;
    units += LATIN_OR_DIGIT.test(ch) ? 0.5 : 1;
  }
  return units;
}

function countLinks(normalizedText: string): number {
  return normalizedText.match(URL_PATTERN)?.length ?? 0;
}

interface CategoryDecision {
  category: string;
  matchedKeywords: string[];
  /** Whether any category keyword at all hit (out-of-scope needs none). */
  anyHit: boolean;
}

function decideCategory(policy: Policy, compiled: CompiledPolicy, text: string): CategoryDecision {
  let best: { id: string; score: number; hits: string[] } | undefined;
  let anyCategoryHit = false;
  for (const c of compiled.categories) {
    const hits = c.matchers.filter((m) => m.test(text)).map((m) => m.keyword);
    if (hits.length === 0) continue;
    anyCategoryHit = true;
    const score = hits.length * c.weight;
    // Strictly greater: on a tie the category listed first in the policy wins.
    if (best === undefined || score > best.score) best = { id: c.id, score, hits };
  }
  if (best === undefined)
    return { category: policy.fallbackCategory, matchedKeywords: [], anyHit: anyCategoryHit };
  return {
    category: best.id,
    matchedKeywords: best.hits.slice(0, MAX_MATCHED_KEYWORDS),
    anyHit: anyCategoryHit,
  };
}

const rank = (s: Severity): number => SEVERITIES.indexOf(s);

function decideSeverity(
  policy: Policy,
  compiled: CompiledPolicy,
  text: string,
  category: string,
  submission: ComplaintSubmission,
): { severity: Severity; fired: string[] } {
  const textAmount = extractAmount(text);
  const amounts = [submission.amount, textAmount].filter((a): a is number => a !== undefined);
  const amount = amounts.length > 0 ? Math.max(...amounts) : undefined;
  let floor = rank(policy.severity.default);
  let raise = 0;
  const fired: string[] = [];
  for (const { rule, matchers } of compiled.rules) {
    const w = rule.when;
    if (w.categories !== undefined && !w.categories.includes(category)) continue;
    if (matchers !== undefined && !anyHit(matchers, text)) continue;
    if (w.amountAtLeast !== undefined && (amount === undefined || amount < w.amountAtLeast)) continue;
    if (
      w.affectedUsersAtLeast !== undefined &&
      (submission.affectedUsers === undefined || submission.affectedUsers < w.affectedUsersAtLeast)
    ) {
      continue;
    }
    fired.push(rule.id);
    if ('atLeast' in rule.effect) floor = Math.max(floor, rank(rule.effect.atLeast));
    else raise += rule.effect.raise;
  }
  const level = Math.min(floor + raise, SEVERITIES.length - 1);
  return { severity: SEVERITIES[level] ?? 'major', fired };
}

/** Entries of `recent` that happened before this complaint (never the complaint itself). */
function earlierComplaints(
  input: Pick<ClassificationInput, 'now' | 'selfId' | 'receivedAt'>,
  recent: readonly RecentComplaint[],
) {
  const reference = (input.receivedAt ?? input.now).getTime();
  return recent
    .map((r) => ({ entry: r, at: Date.parse(r.receivedAt) }))
    .filter(({ entry, at }) => {
      if (Number.isNaN(at)) return false;
      if (input.selfId !== undefined && entry.id === input.selfId) return false;
      if (at > reference) return false;
      // Same instant: ids are time-ordered (ULID), the smaller one came first.
      return !(at === reference && input.selfId !== undefined && entry.id > input.selfId);
    });
}

/**
 * The repeat rule: ids of the customer's complaints of `category` received within
 * `repeat.windowDays` before this one (oldest first), not rejected ones and not
 * `excludeId` (the complaint this one duplicates). Used by the classifier and again
 * when a supervisor changes the category.
 */
export function repeatsOf(
  policy: Policy,
  input: Pick<ClassificationInput, 'now' | 'selfId' | 'receivedAt'>,
  recent: readonly RecentComplaint[],
  category: string,
  excludeId?: string,
): string[] {
  const windowStart = (input.receivedAt ?? input.now).getTime() - policy.repeat.windowDays * DAY_MS;
  return earlierComplaints(input, recent)
    .filter(
      ({ entry, at }) =>
        at >= windowStart &&
        entry.category === category &&
        entry.phase !== 'rejected' &&
        entry.id !== excludeId,
    )
    .sort((a, b) => a.at - b.at)
    .map(({ entry }) => entry.id);
}

/**
 * Classifies a complaint per the policy (spec step 3 and 4).
 *
 * - language: from the text (customer language, then policy default, when it has no letters);
 * - category: weighted keyword hits over title, description, demand and scenario,
 *   in both languages whatever the text language; ties go to the policy order;
 *   no hit gives `fallbackCategory`;
 * - validity, first that applies: abusive, spam (keywords or more than `maxLinks`
 *   URLs), out of scope (keyword and no category keyword), insufficient (see
 *   `meaningfulLength` over title + description), duplicate (an open earlier
 *   complaint of the same category whose fingerprint is at least
 *   `duplicateSimilarity` alike; the most similar one is `duplicateOf`);
 * - severity: the default, raised to the highest `atLeast` floor of the rules that
 *   fire, then by every `raise`, capped at major; a rule fires when all of its
 *   conditions hold (money = the larger of the amount field and the text's);
 * - repeat: earlier complaints of the same category within `repeat.windowDays`,
 *   not rejected ones and not the one this duplicates;
 * - priority: `base[severity] − tier boost − repeat boost`, clamped to 1…4.
 *
 * Category, severity and priority are filled in for invalid complaints too, so a
 * contested rejection can be reinstated without classifying again.
 */
export function classify(
  policy: Policy,
  input: ClassificationInput,
  context: ClassificationContext,
): Classification {
  const compiled = compile(policy);
  const { submission } = input;
  const raw = complaintText(submission);
  const text = normalizeText(raw);
  const language = detectLanguage(raw, submission.customer.language ?? policy.defaultLanguage);

  const decision = decideCategory(policy, compiled, text);
  const { category } = decision;
  const { severity, fired } = decideSeverity(policy, compiled, text, category, submission);

  const earlier = earlierComplaints(input, context.recent);

  let validity: ValidityVerdict = 'valid';
  let duplicateOf: string | undefined;
  if (anyHit(compiled.abusive, text)) validity = 'abusive';
  else if (anyHit(compiled.spam, text) || countLinks(text) > policy.validity.spam.maxLinks) validity = 'spam';
  else if (!decision.anyHit && anyHit(compiled.outOfScope, text)) validity = 'out_of_scope';
  else if (
    meaningfulLength([submission.title ?? '', submission.description].join(' ')) <
    policy.validity.minDescriptionLength
  ) {
    validity = 'insufficient';
  } else {
    const fingerprint = complaintFingerprint(submission);
    let best: { id: string; similarity: number; at: number } | undefined;
    for (const { entry, at } of earlier) {
      if (entry.category !== category || entry.phase !== 'open') continue;
      const similarity = fingerprintSimilarity(fingerprint, entry.fingerprint);
      if (similarity < policy.validity.duplicateSimilarity) continue;
      if (
        best === undefined ||
        similarity > best.similarity ||
        (similarity === best.similarity && at > best.at)
      ) {
        best = { id: entry.id, similarity, at };
      }
    }
    if (best !== undefined) {
      validity = 'duplicate';
      duplicateOf = best.id;
    }
  }

  const previous = repeatsOf(policy, input, context.recent, category, duplicateOf);
  const isRepeat = previous.length > 0;

  const priority = priorityOf(policy, { severity, tier: input.tier, isRepeat });

  return {
    category,
    severity,
    priority,
    validity,
    ...(duplicateOf !== undefined ? { duplicateOf } : {}),
    repeat: { isRepeat, previous },
    severityRules: fired,
    matchedKeywords: decision.matchedKeywords,
    language,
    classifiedAt: input.now.toISOString(),
  };
}

/**
 * The policy's priority rule: `base[severity] − tier boost − repeat boost`, clamped to
 * 1 (highest) … 4. Shared by the classifier and a supervisor's reclassification.
 */
export function priorityOf(
  policy: Policy,
  input: { severity: Severity; tier: string; isRepeat: boolean },
): number {
  const boost = policy.tiers.find((t) => t.id === input.tier)?.priorityBoost ?? 0;
  const raw =
    policy.priority.base[input.severity] - boost - (input.isRepeat ? policy.priority.repeatBoost : 0);
  return Math.min(4, Math.max(1, Math.round(raw)));
}

/** The verdicts that reject a complaint. */
export type RejectionVerdict = Exclude<ValidityVerdict, 'valid'>;

/**
 * The polite reason told to the customer for a rejected complaint, in their
 * language, so nothing is silently dropped (spec step 3). `number` replaces
 * `{number}`: for `duplicate` pass the number of the open complaint it
 * duplicates, otherwise this complaint's own number.
 */
export function rejectionMessage(
  policy: Policy,
  verdict: RejectionVerdict,
  language: Language,
  vars: { number: string },
): string {
  return policy.validity.reasons[verdict][language].replaceAll('{number}', vars.number);
}
