import * as z from 'zod';
import { isIanaTimeZone } from '../domain/time-zone';

/**
 * The policy document: everything a deployer may change without touching code.
 *
 * It is validated at synth time (a bad file fails `cdk synth`); the functions carry the validated,
 * normalised document and check only its digest at a cold start (`bundled.ts`). Cross-references (a routing rule naming an unknown department, an SLA
 * row naming an unknown category, …) are checked here too, so a typo is a synth
 * error rather than a 3 a.m. incident. The default document is
 * `policy/default-policy.json`; the format is documented in docs/policy.md.
 */

import { LanguageSchema, SeveritySchema } from './vocabulary';

export {
  CHANNELS,
  type Channel,
  ChannelSchema,
  LANGUAGES,
  type Language,
  LanguageSchema,
  SEVERITIES,
  type Severity,
  SeveritySchema,
} from './vocabulary';

const Slug = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be a lower-case slug (letters, digits, underscores)');

/** A text in both service languages; customer-facing texts must exist in each. */
export const LocalizedTextSchema = z.object({ zh: z.string().min(1), en: z.string().min(1) });
export type LocalizedText = z.infer<typeof LocalizedTextSchema>;

/**
 * Keywords per language; matching is case-insensitive and width-insensitive (NFKC).
 * Latin and digit keywords match on word boundaries ("bug" does not hit "debug");
 * Chinese keywords match as substrings. Both lists apply whatever the text language.
 */
export const KeywordsSchema = z
  .object({ zh: z.array(z.string().min(1)).default([]), en: z.array(z.string().min(1)).default([]) })
  .refine((k) => k.zh.length + k.en.length > 0, 'needs at least one keyword');
export type Keywords = z.infer<typeof KeywordsSchema>;

/**
 * A duration. `time: "working"` counts only the calendar's working hours
 * ("within 12 working hours"); `"calendar"` counts wall-clock time. Working days
 * count whole working days and end at the same time of day on the target day.
 */
export const DurationSchema = z.object({
  value: z.number().nonnegative(),
  unit: z.enum(['seconds', 'minutes', 'hours', 'days']),
  time: z.enum(['working', 'calendar']),
});
export type Duration = z.infer<typeof DurationSchema>;
const PositiveDurationSchema = DurationSchema.refine((d) => d.value > 0, 'a target must be longer than zero');

const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (24-hour)');
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

export const CalendarSchema = z
  .object({
    /** IANA time zone of the business, e.g. Asia/Shanghai. */
    timeZone: z.string().refine(isIanaTimeZone, 'must be an IANA time zone such as Asia/Shanghai'),
    /** ISO weekdays (1 = Monday … 7 = Sunday) that are working days in an ordinary week. */
    workingDays: z.array(z.number().int().min(1).max(7)).min(1),
    /** Working windows within a working day, e.g. a morning and an afternoon shift. */
    workingHours: z
      .array(z.object({ start: HhMm, end: HhMm }))
      .min(1)
      .refine(
        (ws) => ws.every((w, i) => w.start < w.end && (i === 0 || (ws[i - 1]?.end ?? '') <= w.start)),
        'windows must be ordered, non-overlapping, and each start before its end',
      ),
    /**
     * Public holidays and official make-up working days. `cn-official` uses the
     * maintained `chinese-days` package (State Council schedule: holidays and 调休
     * make-up days); `none` uses only `workingDays` and the extra lists below.
     */
    holidays: z.enum(['cn-official', 'none']),
    /** Additional company holidays (YYYY-MM-DD in the business time zone). */
    extraHolidays: z.array(IsoDate).default([]),
    /** Additional working days, e.g. a make-up day announced after the package release. */
    extraWorkdays: z.array(IsoDate).default([]),
  })
  .strict()
  .refine((c) => !c.extraHolidays.some((d) => c.extraWorkdays.includes(d)), {
    message: 'a date cannot be both an extra holiday and an extra working day',
    path: ['extraWorkdays'],
  });
export type Calendar = z.infer<typeof CalendarSchema>;

export const CategorySchema = z
  .object({
    id: Slug,
    name: LocalizedTextSchema,
    keywords: KeywordsSchema.optional(),
    /** Extra weight per keyword hit: a security word should beat a generic "slow". */
    weight: z.number().positive().default(1),
  })
  .strict();
export type Category = z.infer<typeof CategorySchema>;

export const SeverityRuleSchema = z
  .object({
    id: Slug,
    /** Which of the spec's signals this rule measures; reported in the classification. */
    signal: z.enum(['impact', 'money', 'spread', 'emotion', 'media', 'category']),
    /** Every condition given must hold (AND); one keyword of the list is enough. */
    when: z
      .object({
        keywords: KeywordsSchema.optional(),
        /** Money at stake, from the structured amount or one found in the text, in the policy currency. */
        amountAtLeast: z.number().nonnegative().optional(),
        /** Number of users affected, from the structured field. */
        affectedUsersAtLeast: z.number().int().positive().optional(),
        /** Restrict the rule to these categories. */
        categories: z.array(Slug).optional(),
      })
      .strict()
      .refine(
        (w) =>
          w.keywords !== undefined || w.amountAtLeast !== undefined || w.affectedUsersAtLeast !== undefined,
        'a rule needs keywords, amountAtLeast or affectedUsersAtLeast',
      ),
    /** `atLeast` sets a floor; `raise` moves the severity up by that many levels (after floors). */
    effect: z.union([
      z.object({ atLeast: SeveritySchema }).strict(),
      z.object({ raise: z.number().int().min(1).max(3) }).strict(),
    ]),
  })
  .strict();
export type SeverityRule = z.infer<typeof SeverityRuleSchema>;

export const ValiditySchema = z
  .object({
    spam: z.object({ keywords: KeywordsSchema, maxLinks: z.number().int().positive().default(3) }).strict(),
    abusive: z.object({ keywords: KeywordsSchema }).strict(),
    outOfScope: z.object({ keywords: KeywordsSchema }).strict(),
    /**
     * Fewer meaningful characters than this is not a complaint. Letters and digits
     * count; a Latin letter counts half (a Chinese character carries more), and a run
     * of one repeated character counts once: "asdf" and "垃圾" score 2, "无法登录" 4.
     */
    minDescriptionLength: z.number().int().min(1).default(4),
    /**
     * A new complaint this similar (SimHash, 0–1) to an open one of the same customer
     * and category is a duplicate. Unrelated texts score about 0.5, so below 0.7 would
     * merge unrelated complaints.
     */
    duplicateSimilarity: z.number().min(0.7).max(1).default(0.8),
    /** Polite reasons told to the customer, per verdict. `{number}` is replaced. */
    reasons: z
      .object({
        spam: LocalizedTextSchema,
        abusive: LocalizedTextSchema,
        duplicate: LocalizedTextSchema,
        out_of_scope: LocalizedTextSchema,
        insufficient: LocalizedTextSchema,
      })
      .strict(),
  })
  .strict();

export const TierSchema = z
  .object({ id: Slug, name: LocalizedTextSchema, priorityBoost: z.number().int().min(0).max(3).default(0) })
  .strict();

const Wildcard = z.literal('*');
const PriorityLevel = z.number().int().min(1).max(4);

export const SlaRowSchema = z
  .object({
    category: z.union([Slug, Wildcard]),
    severity: z.union([SeveritySchema, Wildcard]),
    tier: z.union([Slug, Wildcard]),
    acknowledge: PositiveDurationSchema,
    firstResponse: PositiveDurationSchema,
    resolution: PositiveDurationSchema,
  })
  .strict();
export type SlaRow = z.infer<typeof SlaRowSchema>;

export const SlaSchema = z
  .object({
    /** A warning goes to the owner when this share of a target has elapsed (0.8 = at 80 %). */
    warnAtFraction: z.number().gt(0).lt(1),
    /** Most specific matching row wins (fewest wildcards); ties go to the earlier row. */
    targets: z.array(SlaRowSchema).min(1),
  })
  .strict();

export const AgentSchema = z
  .object({
    id: Slug,
    languages: z.array(LanguageSchema).min(1),
    /** Most open complaints this agent should hold; beyond it the agent is not eligible. */
    capacity: z.number().int().positive().default(25),
    /** Customer tiers this agent serves; absent means all tiers. */
    tiers: z.array(Slug).optional(),
    /** Lowest severity this agent may own; e.g. only seniors take urgent and major. */
    maxSeverity: SeveritySchema.default('major'),
  })
  .strict();
export type Agent = z.infer<typeof AgentSchema>;

export const DepartmentSchema = z
  .object({
    id: Slug,
    name: LocalizedTextSchema,
    agents: z.array(AgentSchema),
    /** Escalation contacts of this department (ids in the company directory). */
    teamLead: z.string().min(1),
    head: z.string().min(1),
  })
  .strict();
export type Department = z.infer<typeof DepartmentSchema>;

export const RoutingRuleSchema = z
  .object({
    category: Slug,
    /** Restrict the rule to these severities; absent means all. */
    severities: z.array(SeveritySchema).optional(),
    lead: Slug,
    collaborators: z.array(Slug).default([]),
  })
  .strict();

export const EscalationLevelSchema = z
  .object({
    level: z.number().int().min(1),
    role: z.enum(['team_lead', 'department_head', 'executive_on_duty']),
    /** Delay after the missed deadline (or after the previous level) before this level is alerted. */
    after: DurationSchema,
  })
  .strict();

/** An EventBridge source name of another service (never one of this service's `complaints.*`). */
const ProducerSource = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !s.startsWith('complaints.'), "must not be one of the service's own sources (complaints.*)");

export const TrustSchema = z
  .object({
    /**
     * Event sources whose `Complaint Reported` events are trusted to state priority-raising facts
     * (customer tier, affected users). Other producers' values for them are ignored (and noted on the
     * timeline); the public `POST /complaints` refuses them.
     */
    producers: z.array(ProducerSource).default([]),
    /** Event sources allowed to publish `Customer Profile Updated` (the CRM feeding the customer directory). */
    customerDirectorySources: z.array(ProducerSource).default([]),
  })
  .strict();

export const LimitsSchema = z
  .object({
    /** Customer replies to one complaint per rolling hour; more get 429 with Retry-After. */
    customerRepliesPerHour: z.number().int().min(1).max(1000).default(10),
    /** Customer replies one complaint may accumulate in all; more get 409 naming the cap. */
    maxCustomerReplies: z.number().int().min(1).max(10_000).default(100),
    /** Longest customer reply or agent message, in characters. */
    maxMessageChars: z.number().int().min(100).max(10_000).default(5000),
    /** Timeline entries one complaint may accumulate; actions beyond it get 409 naming the cap. */
    maxTimelineEntries: z.number().int().min(50).max(5000).default(1000),
  })
  .strict();

export const PrivacySchema = z
  .object({
    /**
     * Personal data of a complaint is erased this many days after it is closed or rejected (anonymous
     * figures stay). Also bounds how long dead-letter messages and archived events may hold it.
     */
    retentionDays: z.number().int().min(1).max(3650).default(365),
  })
  .strict();

export const PolicySchema = z
  .object({
    policyVersion: z.literal(1),
    name: z.string().min(1),
    currency: z.string().regex(/^[A-Z]{3}$/),
    defaultLanguage: LanguageSchema,
    calendar: CalendarSchema,
    categories: z.array(CategorySchema).min(1),
    /** Category given when no keyword matches. */
    fallbackCategory: Slug,
    severity: z.object({ default: SeveritySchema, rules: z.array(SeverityRuleSchema) }).strict(),
    validity: ValiditySchema,
    repeat: z.object({ windowDays: z.number().int().positive() }).strict(),
    /** Priority 1 (highest) … 4: base per severity, minus tier boost and repeat boost, floored at 1. */
    priority: z
      .object({
        base: z.object({
          general: PriorityLevel,
          important: PriorityLevel,
          urgent: PriorityLevel,
          major: PriorityLevel,
        }),
        repeatBoost: z.number().int().min(0).max(3),
      })
      .strict(),
    tiers: z.array(TierSchema).min(1),
    defaultTier: Slug,
    sla: SlaSchema,
    routing: z
      .object({
        departments: z.array(DepartmentSchema).min(1),
        rules: z.array(RoutingRuleSchema),
        /** Department that owns anything no rule covers; unclear ownership escalates instead of bouncing. */
        fallbackDepartment: Slug,
      })
      .strict(),
    escalation: z
      .object({
        levels: z.array(EscalationLevelSchema).min(1),
        executiveOnDuty: z.string().min(1),
        /** Severities that alert the top level at intake. */
        alertTopLevelAtIntake: z.array(SeveritySchema).default(['major']),
      })
      .strict(),
    survey: z
      .object({
        sendAfter: PositiveDurationSchema,
        answerWindow: PositiveDurationSchema,
        /** A score at or below this reopens the complaint. */
        reopenAtOrBelow: z.number().int().min(1).max(4),
      })
      .strict(),
    approval: z
      .object({
        /** Compensation above this amount (policy currency) needs a supervisor's approval. */
        compensationAbove: z.number().nonnegative(),
        alwaysForSeverities: z.array(SeveritySchema).default(['major']),
      })
      .strict(),
    messages: z
      .object({
        /** Sent at intake; placeholders: {number}, {respondBy}, {trackingUrl}. */
        acknowledgement: LocalizedTextSchema,
      })
      .strict(),
    /** Who may assert what (architecture: "Trust boundaries"). */
    trust: TrustSchema.default(TrustSchema.parse({})),
    /** Bounds on what callers may make one complaint accumulate. */
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    /** How long personal data is kept (PIPL art. 47 / GDPR art. 17). */
    privacy: PrivacySchema.default(PrivacySchema.parse({})),
  })
  .strict()
  .superRefine(checkReferences);

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

/** Cross-reference checks: every id a rule names must exist, and some rules must be total. */
function checkReferences(p: z.output<z.ZodObject>, ctx: z.RefinementCtx): void {
  const policy = p as unknown as Policy;
  const categories = new Set(policy.categories.map((c) => c.id));
  const departments = new Set(policy.routing.departments.map((d) => d.id));
  const tiers = new Set(policy.tiers.map((t) => t.id));
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });

  const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const d of duplicates(policy.categories.map((c) => c.id)))
    issue(['categories'], `duplicate category "${d}"`);
  for (const d of duplicates([...departments]))
    issue(['routing', 'departments'], `duplicate department "${d}"`);
  const agentIds = policy.routing.departments.flatMap((d) => d.agents.map((a) => a.id));
  for (const d of duplicates(agentIds)) issue(['routing', 'departments'], `agent "${d}" is listed twice`);

  if (!categories.has(policy.fallbackCategory)) {
    issue(['fallbackCategory'], `unknown category "${policy.fallbackCategory}"`);
  }
  if (!tiers.has(policy.defaultTier)) issue(['defaultTier'], `unknown tier "${policy.defaultTier}"`);
  if (!departments.has(policy.routing.fallbackDepartment)) {
    issue(['routing', 'fallbackDepartment'], `unknown department "${policy.routing.fallbackDepartment}"`);
  }
  policy.severity.rules.forEach((r, i) => {
    for (const c of r.when.categories ?? []) {
      if (!categories.has(c))
        issue(['severity', 'rules', i, 'when', 'categories'], `unknown category "${c}"`);
    }
  });
  policy.sla.targets.forEach((row, i) => {
    if (row.category !== '*' && !categories.has(row.category)) {
      issue(['sla', 'targets', i, 'category'], `unknown category "${row.category}"`);
    }
    if (row.tier !== '*' && !tiers.has(row.tier))
      issue(['sla', 'targets', i, 'tier'], `unknown tier "${row.tier}"`);
  });
  if (!policy.sla.targets.some((r) => r.category === '*' && r.severity === '*' && r.tier === '*')) {
    issue(['sla', 'targets'], 'needs a catch-all row with category, severity and tier all "*"');
  }
  policy.routing.rules.forEach((rule, i) => {
    if (!categories.has(rule.category))
      issue(['routing', 'rules', i, 'category'], `unknown category "${rule.category}"`);
    for (const [j, d] of [rule.lead, ...rule.collaborators].entries()) {
      if (!departments.has(d))
        issue(['routing', 'rules', i, j === 0 ? 'lead' : 'collaborators'], `unknown department "${d}"`);
    }
  });
  policy.routing.departments.forEach((d, i) => {
    d.agents.forEach((a, j) => {
      for (const t of a.tiers ?? []) {
        if (!tiers.has(t)) issue(['routing', 'departments', i, 'agents', j, 'tiers'], `unknown tier "${t}"`);
      }
    });
  });
  const levels = policy.escalation.levels.map((l) => l.level);
  if (levels.some((l, i) => l !== i + 1))
    issue(['escalation', 'levels'], 'levels must be numbered 1, 2, 3, … in order');
}
