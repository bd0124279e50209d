import { z } from 'zod';
import { CONTACT_CHANNELS, TREATMENTS, type Treatment } from '../schema/enums.ts';

/**
 * The policy language (docs/policy.md). Every section has a default, so a file only states what it changes;
 * the defaults here and `policies/default.yaml` are the same policy (a test holds them together).
 * Guardrail parameters can be tightened but never loosened: past the rule pack of the accounts they apply to
 * (policies/packs/, checked in load.ts), or past the house floors of legal action in `LIMITS`.
 */

/**
 * Channels a policy can use to deliver a treatment. `visit`: an agent at the customer's address; `agency`: the
 * account is handed to a collection agency (which then contacts the customer on its own channels). Last, so the
 * codes of the others (backtest tapes) do not move.
 */
export const POLICY_CHANNELS = ['sms', 'email', 'app', 'call', 'letter', 'legal', 'visit', 'agency'] as const;
export type PolicyChannel = (typeof POLICY_CHANNELS)[number];

/** Which channels can carry which treatment (a call cannot be an SMS; legal action is not a phone call). */
export const CHANNELS_FOR: Record<Exclude<Treatment, 'hold'>, readonly PolicyChannel[]> = {
  gentle_nudge: ['sms', 'email', 'app', 'letter'],
  plan_offer: ['sms', 'email', 'app', 'letter', 'call'],
  human_call: ['call'],
  legal: ['legal', 'letter'],
  field_visit: ['visit'],
  agency_placement: ['agency'],
};

/** The staged flow's treatments: off until a policy enables them (`treatments.<t>.enabled`). */
export const OPTIONAL_TREATMENTS = [
  'field_visit',
  'agency_placement',
] as const satisfies readonly Treatment[];

/** The four cells of the willingness × ability matrix (DESIGN §6). */
export const SEGMENTS = [
  'high_willingness_high_ability',
  'high_willingness_low_ability',
  'low_willingness_high_ability',
  'low_willingness_low_ability',
] as const;
export type Segment = (typeof SEGMENTS)[number];

/**
 * The house floors of legal action, in every jurisdiction: a policy may be stricter, never looser (DESIGN §6).
 * The jurisdictions' own floors (contact hours, call caps, cooldowns …) are rule packs (`policies/packs/`).
 */
export const LIMITS = {
  /** Legal action needs at least this many days past due and a notice at least this old (days). */
  legalMinDaysPastDue: 90,
  legalNoticeMinAgeDays: 14,
  /** An account goes to an agency no earlier than this many days past due (a month of the lender's own work). */
  placementMinDaysPastDue: 30,
} as const;

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
const clock = z.string().regex(TIME_RE, { message: 'expected a local time HH:MM (24-hour clock)' });

const MINUTES = new Map<string, number>();

/** Minutes after midnight of a validated HH:MM. */
export function minuteOf(hhmm: string): number {
  // Every decision reads the policy's few clock times (contact hours, visit window): parsed once each.
  let m = MINUTES.get(hhmm);
  if (m === undefined) {
    m = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    if (MINUTES.size < 2048) MINUTES.set(hhmm, m);
  }
  return m;
}

const probability = z.number().min(0).max(1);
const money = z.number().min(0);
const positiveInt = z.number().int().positive();
const treatment = z.enum(TREATMENTS);

/** A matrix cell: one treatment or an ordered preference list (the first lawful one wins). */
const cell = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(treatment).min(1));

const channelCost = z.strictObject({
  /** Cost of one attempt on the channel (currency). */
  cost: money,
  /** Share of attempts that reach the customer; cost / reach ranks channels for "cheapest effective". */
  reach: z.number().gt(0).max(1),
});

function treatmentSchema(name: Exclude<Treatment, 'hold'>, defaults: TreatmentDefaults) {
  const allowed = CHANNELS_FOR[name];
  return z
    .strictObject({
      /**
       * Whether the strategy may choose the treatment (matrix, fallbacks, expected value, staging). Always true for
       * the four treatments of DESIGN §6; the staged flow's are off by default, so a policy written before them
       * decides exactly as before.
       */
      enabled: z.boolean().default(defaults.enabled ?? true),
      channels: z
        .array(z.enum(allowed as [PolicyChannel, ...PolicyChannel[]]))
        .min(1)
        .default([...defaults.channels]),
      /** Handling cost of the treatment on top of the channel's cost (currency). */
      cost: money.default(defaults.cost),
      /** What to try next when this treatment is blocked, in order; hold is always the last resort. */
      fallback: z
        .array(treatment)
        .refine((ts) => !ts.includes(name), { message: `a treatment cannot fall back to itself (${name})` })
        .default([...defaults.fallback]),
    })
    .prefault({});
}

interface TreatmentDefaults {
  enabled?: boolean;
  channels: readonly PolicyChannel[];
  cost: number;
  fallback: readonly Treatment[];
}

/** Logit lifts of one treatment over the scores: P(pay | t) = σ(logit(willingness) + pay), likewise cover. */
const lift = z.strictObject({ pay: z.number().min(-10).max(10), cover: z.number().min(-10).max(10) });

/**
 * Default lifts by segment, in logit units over the model scores (which are P(pay) and P(cover | pay) under the
 * historical mix of treatments). Estimated from the truth of `data-samples/` (average logit difference between
 * each treatment's true response and the logging policy's, by quadrant); replace them with your own estimates.
 * No history logs a field visit or an agency placement, so they have no estimate: a visit is priced as a call
 * (a conversation, in person) and a placement as legal action until a policy states its own.
 */
const DEFAULT_LIFTS: Record<Segment, Record<Treatment, { pay: number; cover: number }>> = {
  high_willingness_high_ability: {
    hold: { pay: 0, cover: -0.6 },
    gentle_nudge: { pay: 0.33, cover: -0.29 },
    plan_offer: { pay: 0.07, cover: -0.73 },
    human_call: { pay: 0.25, cover: 0.32 },
    legal: { pay: 0, cover: -0.6 },
    field_visit: { pay: 0.25, cover: 0.32 },
    agency_placement: { pay: 0, cover: -0.6 },
  },
  high_willingness_low_ability: {
    hold: { pay: -0.07, cover: 0.51 },
    gentle_nudge: { pay: 0.05, cover: 0.34 },
    plan_offer: { pay: 0.08, cover: 0.15 },
    human_call: { pay: -0.32, cover: 1.36 },
    legal: { pay: -0.07, cover: 0.51 },
    field_visit: { pay: -0.32, cover: 1.36 },
    agency_placement: { pay: -0.07, cover: 0.51 },
  },
  low_willingness_high_ability: {
    hold: { pay: 0.03, cover: -0.5 },
    gentle_nudge: { pay: 0.03, cover: -0.68 },
    plan_offer: { pay: -0.2, cover: -1.36 },
    human_call: { pay: -0.04, cover: -0.23 },
    legal: { pay: 0.03, cover: -0.5 },
    field_visit: { pay: -0.04, cover: -0.23 },
    agency_placement: { pay: 0.03, cover: -0.5 },
  },
  low_willingness_low_ability: {
    hold: { pay: 0.03, cover: -0.5 },
    gentle_nudge: { pay: -0.14, cover: 0.41 },
    plan_offer: { pay: -0.08, cover: 0.25 },
    human_call: { pay: -0.41, cover: 1.48 },
    legal: { pay: 0.03, cover: -0.5 },
    field_visit: { pay: -0.41, cover: 1.48 },
    agency_placement: { pay: 0.03, cover: -0.5 },
  },
};

const segmentLifts = (seg: Segment) =>
  z
    .strictObject(
      Object.fromEntries(TREATMENTS.map((t) => [t, lift.default(DEFAULT_LIFTS[seg][t])])) as Record<
        Treatment,
        z.ZodDefault<typeof lift>
      >,
    )
    .prefault({});

/** Who gets forbearance in plan offers (plan-offer.ts, docs/policy.md "Forbearance"). */
export const FORBEARANCE_ACCOUNTS = ['required', 'all', 'none'] as const;

/**
 * Forbearance in plan offers: what replaces a plan the customer cannot afford. A rule pack may require it
 * (uk-conc, CONC 7.3.5G); a policy then cannot switch it off (packs/select.ts refuses `accounts: none`), only
 * bound its terms.
 */
const forbearanceSchema = z
  .strictObject({
    /**
     * `required` (default): the accounts whose rule pack requires forbearance; `all`: every account; `none`: no
     * account, refused when the policy selects a pack that requires it.
     */
    accounts: z.enum(FORBEARANCE_ACCOUNTS).default('required'),
    /** A nominal payment while the customer cannot pay more: when the judged capacity is at most `max`. */
    token_payment: z
      .strictObject({
        /** Least token payment asked a month (currency), even when the judged capacity is lower. */
        min: z.number().gt(0).default(1),
        /** Largest token payment a month (currency); a capacity above it gets a reduced payment instead. */
        max: z.number().gt(0).default(10),
        /** Months the token payment runs before the customer's circumstances are reviewed. */
        months: z.number().int().min(1).max(12).default(3),
      })
      .superRefine((t, ctx) => {
        if (typeof t.min === 'number' && typeof t.max === 'number' && t.max < t.min)
          ctx.addIssue({
            code: 'custom',
            path: ['max'],
            message: `expected at least token_payment.min (${t.min})`,
            input: t.max,
          });
      })
      .prefault({}),
    /** A reduced payment (the judged capacity) with interest and charges frozen, when the capacity is above the token. */
    interest_freeze: z
      .strictObject({
        /** Most months interest stays frozen before a review (the plan is shorter when it clears the balance). */
        months: z.number().int().min(1).max(24).default(12),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * One stage of the staged flow: its treatments, and the contacts that show it was tried (contacts record channels,
 * not treatments). `tried_by` defaults to the channels of its treatments not already named by an earlier stage
 * (staging.ts `stageEvidence`). A bare list of treatments is a stage too.
 */
const stageSchema = z.preprocess(
  (v) => (Array.isArray(v) ? { treatments: v } : v),
  z.strictObject({
    /** A name for reasons and reports; default the treatments joined by "+". */
    name: z.string().min(1).max(40).optional(),
    treatments: z
      .array(z.enum(TREATMENTS.filter((t) => t !== 'hold') as [Exclude<Treatment, 'hold'>]))
      .min(1),
    /** Contact channels whose attempts show the stage was tried. */
    tried_by: z.array(z.enum(CONTACT_CHANNELS)).min(1).optional(),
  }),
);

/** The parts of a policy that make the strategy: a challenger arm may override any of them. */
export const rulesShape = {
  /** `matrix`: the willingness × ability quadrant; `expected_value`: the largest expected net recovery. */
  mode: z.enum(['matrix', 'expected_value']).default('matrix'),
  /** Accounts with fewer days past due than this are not in collections: hold. */
  min_days_past_due: z.number().int().min(0).default(1),
  segments: z
    .strictObject({
      /** A willingness score at or above this is "high". */
      willingness_high: probability.default(0.6),
      /** An ability score at or above this is "high". */
      ability_high: probability.default(0.5),
    })
    .prefault({}),
  matrix: z
    .strictObject({
      high_willingness_high_ability: cell.default(['gentle_nudge']),
      high_willingness_low_ability: cell.default(['plan_offer']),
      low_willingness_high_ability: cell.default(['human_call']),
      low_willingness_low_ability: cell.default(['legal', 'human_call']),
    })
    .prefault({}),
  channels: z
    .strictObject({
      sms: channelCost.default({ cost: 0.05, reach: 0.9 }),
      email: channelCost.default({ cost: 0.01, reach: 0.6 }),
      app: channelCost.default({ cost: 0.02, reach: 0.5 }),
      call: channelCost.default({ cost: 4, reach: 0.45 }),
      letter: channelCost.default({ cost: 1.2, reach: 0.95 }),
      legal: channelCost.default({ cost: 0, reach: 1 }),
      /** An agent's trip to the customer's address; a third of visits find no one in. */
      visit: channelCost.default({ cost: 30, reach: 0.65 }),
      /** Handing the account to an agency costs nothing per attempt: the agency's fee is the treatment's cost. */
      agency: channelCost.default({ cost: 0, reach: 1 }),
    })
    .prefault({}),
  treatments: z
    .strictObject({
      gentle_nudge: treatmentSchema('gentle_nudge', {
        channels: ['sms', 'email', 'app'],
        cost: 0,
        fallback: ['hold'],
      }),
      plan_offer: treatmentSchema('plan_offer', {
        channels: ['email', 'sms', 'app', 'letter'],
        cost: 3,
        fallback: ['gentle_nudge', 'hold'],
      }),
      human_call: treatmentSchema('human_call', {
        channels: ['call'],
        cost: 6,
        fallback: ['plan_offer', 'gentle_nudge', 'hold'],
      }),
      legal: treatmentSchema('legal', {
        channels: ['legal'],
        cost: 250,
        fallback: ['human_call', 'plan_offer', 'gentle_nudge', 'hold'],
      }),
      field_visit: treatmentSchema('field_visit', {
        enabled: false,
        channels: ['visit'],
        cost: 25,
        fallback: ['human_call', 'plan_offer', 'gentle_nudge', 'hold'],
      }),
      agency_placement: treatmentSchema('agency_placement', {
        enabled: false,
        channels: ['agency'],
        cost: 60,
        fallback: ['field_visit', 'human_call', 'plan_offer', 'gentle_nudge', 'hold'],
      }),
    })
    .prefault({}),
  /**
   * The staged flow (DESIGN §6: reminder → call → field visit → agency or legal): a treatment of stage k is chosen
   * only when stage k − 1 was tried within `tried_within_days`, or is ruled out today and was itself reached.
   * Absent = no staging (the strategy's order alone). Treatments in no stage are never held back.
   */
  staging: z
    .strictObject({
      stages: z.array(stageSchema).min(2),
      /** A stage counts as tried when one of its `tried_by` contacts is at most this many days old. */
      tried_within_days: positiveInt.max(90).default(60),
    })
    .superRefine((st, ctx) => {
      const seen = new Map<string, number>();
      st.stages?.forEach((stage, k) => {
        stage.treatments.forEach((t, j) => {
          const at = seen.get(t);
          if (at !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['stages', k, 'treatments', j],
              message: `expected each treatment in one stage only; ${t} is already in stage ${at + 1}`,
              input: t,
            });
          else seen.set(t, k);
        });
      });
    })
    .optional(),
  plan: z
    .strictObject({
      /** Share of monthly income the plan may take: min at ability 0, max at ability 1 (linear between). */
      income_share: z
        .strictObject({ min: probability.default(0.05), max: probability.default(0.2) })
        .refine((s) => s.min <= s.max, { message: 'min must not exceed max' })
        .prefault({}),
      /** Without a declared income: share of the contractual instalment, min at ability 0, max at ability 1. */
      instalment_share_without_income: z
        .strictObject({ min: z.number().gt(0).max(2).default(0.5), max: z.number().gt(0).max(2).default(1) })
        .refine((s) => s.min <= s.max, { message: 'min must not exceed max' })
        .prefault({}),
      /** Months a card balance is planned over before any extension (cards have no contractual term). */
      card_term_months: positiveInt.max(120).default(12),
      /** Most months the plan may add to the remaining term. */
      max_term_extension_months: z.number().int().min(0).max(120).default(24),
      /** Largest fraction of the APR the plan may waive (1 = interest-free). */
      max_interest_relief: probability.default(0.5),
      /** Relief is offered in steps of this fraction of the APR. */
      interest_relief_step: z.number().gt(0).max(1).default(0.1),
      /** Lowest monthly payment a plan asks for (currency). */
      min_payment: money.default(20),
      forbearance: forbearanceSchema,
    })
    .prefault({}),
  /** Promises to pay (core/promises/match.ts): what the strategy does after one is broken. */
  promises: z
    .strictObject({
      /**
       * For this many days from the day a promise broke (its date plus `guardrails.promise_grace_days` passed with
       * the promised amount not paid), the decision follows up with `follow_up`, unless the customer has been
       * reached since or another promise is open; 0 = no follow-up. Needs the account's payments.
       */
      broken_promise_follow_up_days: z.number().int().min(0).max(60).default(7),
      /** The follow-up, in order of preference (the first lawful one wins): a human call, or a reminder. */
      follow_up: z
        .array(z.enum(['human_call', 'gentle_nudge', 'plan_offer']))
        .min(1)
        .default(['human_call', 'gentle_nudge']),
    })
    .prefault({}),
  response: z
    .strictObject({
      /** Mean share of the overdue amount recovered when a payment does not cover it. */
      partial_recovery: probability.default(0.55),
      lifts: z
        .strictObject(
          Object.fromEntries(SEGMENTS.map((s) => [s, segmentLifts(s)])) as Record<
            Segment,
            ReturnType<typeof segmentLifts>
          >,
        )
        .prefault({}),
    })
    .prefault({}),
};

const cap = z.strictObject({ attempts: z.number().int().min(0), days: positiveInt.max(365) });

export const guardrailsSchema = z
  .strictObject({
    contact_hours: z
      .strictObject({ start: clock.default('08:00'), end: clock.default('21:00') })
      .superRefine((raw, ctx) => {
        if (!TIME_RE.test(raw.start) || !TIME_RE.test(raw.end)) return;
        const [start, end] = [minuteOf(raw.start), minuteOf(raw.end)];
        // The earliest and latest lawful hours are the account's rule pack's (packs/floors.ts).
        const issue = (path: 'start' | 'end', message: string) =>
          ctx.addIssue({ code: 'custom', path: [path], message, input: raw[path] });
        if (start >= end) issue('end', `expected an end after the start (${raw.start})`);
      })
      .prefault({}),
    /** Contact caps per channel: at most `attempts` in any `days` days (0 attempts = never). */
    caps: z
      .strictObject({
        // The legal caps are the account's rule pack's (packs/floors.ts): us-reg-f allows at most 7 in 7 days.
        call: cap.default({ attempts: 7, days: 7 }),
        sms: cap.default({ attempts: 3, days: 7 }),
        email: cap.default({ attempts: 3, days: 7 }),
        app: cap.default({ attempts: 3, days: 7 }),
        letter: cap.default({ attempts: 2, days: 14 }),
        visit: cap.default({ attempts: 2, days: 14 }),
      })
      .prefault({}),
    /** No call for this many days after a conversation (right party, promise, refusal, dispute); 0 = none. */
    conversation_cooldown_days: z.number().int().min(0).max(365).default(7),
    /**
     * At most this many connected (right-party) calls in the customer's local day, by the lender and its
     * agencies together; null = only the rule pack's cap, if it has one.
     */
    connected_calls_per_day: z.number().int().min(0).nullable().default(null),
    /** While a promise to pay is open (its date plus this many days not passed): no call, no legal. */
    promise_grace_days: z.number().int().min(0).max(60).default(3),
    legal: z
      .strictObject({
        min_days_past_due: z
          .number()
          .int()
          .min(LIMITS.legalMinDaysPastDue, { message: 'expected at least 90 days (the legal limit)' })
          .default(90),
        /** Least overdue amount worth legal action (currency). */
        min_overdue: money.default(500),
        notice_min_age_days: z
          .number()
          .int()
          .min(LIMITS.legalNoticeMinAgeDays, { message: 'expected at least 14 days (the legal limit)' })
          .default(14),
      })
      .prefault({}),
    /**
     * Field visits: only inside this local window and the account's contact hours both, so the window can only
     * narrow them (outside, a visit is scheduled for the next instant inside both; no such instant rules it out).
     * Never for a vulnerable or hardship customer, never while a promise is open (guardrails.ts).
     */
    field_visit: z
      .strictObject({
        window: z
          .strictObject({ start: clock.default('09:00'), end: clock.default('20:00') })
          .superRefine((raw, ctx) => {
            if (!TIME_RE.test(raw.start) || !TIME_RE.test(raw.end)) return;
            if (minuteOf(raw.start) >= minuteOf(raw.end))
              ctx.addIssue({
                code: 'custom',
                path: ['end'],
                message: `expected an end after the start (${raw.start})`,
                input: raw.end,
              });
          })
          .prefault({}),
      })
      .prefault({}),
    /**
     * Agency placement: only at or past this many days past due, never with an open complaint or promise, never
     * for a vulnerable customer; the decision carries the record handed over (`Decision.handover`).
     */
    agency_placement: z
      .strictObject({
        min_days_past_due: z
          .number()
          .int()
          .min(LIMITS.placementMinDaysPastDue, {
            message: `expected at least ${LIMITS.placementMinDaysPastDue} days (the house floor)`,
          })
          .default(120),
      })
      .prefault({}),
  })
  .prefault({});

/** Which rule sections a challenger arm may change (never guardrails, never the version). */
export const RULE_KEYS = Object.keys(rulesShape) as (keyof typeof rulesShape)[];

const team = z.strictObject({
  name: z.string().min(1),
  /** Call slots of the team per day. */
  slots: z.number().int().min(0),
  /** The team only calls these products / regions (absent = any). */
  products: z.array(z.string().min(1)).min(1).optional(),
  regions: z.array(z.string().min(1)).min(1).optional(),
});

export const policySchema = z.strictObject({
  /** Version of the policy, recorded on every decision (e.g. "2026-11-25.1"). */
  version: z.string().min(1).max(100),
  description: z.string().default(''),
  ...rulesShape,
  guardrails: guardrailsSchema,
  /**
   * Which rule pack (policies/packs/) holds each account's legal floors, chosen by its `region`; and per pack,
   * guardrail values for that pack's accounts (merged over `guardrails`). Pack names are checked at load.
   */
  packs: z
    .strictObject({
      /** The pack of an account whose region is not listed. */
      default: z.string().min(1).default('us-reg-f'),
      /** Region code (the accounts' `region` column) → pack name. */
      regions: z.record(z.string().min(1), z.string().min(1)).default({}),
      /** Pack name → guardrail fields for that pack's accounts (same shape as `guardrails`, any subset). */
      guardrails: z.record(z.string().min(1), z.record(z.string(), z.unknown())).default({}),
    })
    .prefault({}),
  /** Optional champion/challenger split by a stable hash of account_id. */
  experiment: z
    .strictObject({
      name: z.string().min(1),
      /** Salt of the hash; change it to reshuffle who lands in which arm. Defaults to the name. */
      salt: z.string().min(1).optional(),
      /** Share of accounts in the challenger arm. */
      challenger_share: z.number().gt(0).lt(1),
      /** Rule sections the challenger changes (merged over the policy's own). */
      challenger: z.record(z.string(), z.unknown()),
    })
    .optional(),
  /** Human-call capacity per day: one pool, or teams with the accounts each may call. Absent = unlimited. */
  capacity: z
    .strictObject({
      total_slots: z.number().int().min(0).optional(),
      teams: z.array(team).min(1).optional(),
    })
    .refine((c) => (c.total_slots === undefined) !== (c.teams === undefined), {
      message: 'expected either total_slots or teams, not both and not neither',
    })
    .refine((c) => !c.teams || new Set(c.teams.map((t) => t.name)).size === c.teams.length, {
      message: 'expected unique team names',
    })
    .optional(),
  /** Field visits per day (one pool); absent = unlimited. Filled like call slots: where a visit adds most. */
  visit_capacity: z.strictObject({ slots: z.number().int().min(0) }).optional(),
});

export const rulesSchema = z.strictObject(rulesShape);

/** The strategy rules of one arm (everything but guardrails, experiment and capacity). */
export type Rules = z.output<typeof rulesSchema>;
export type Guardrails = z.output<typeof guardrailsSchema>;
export type PolicyFile = z.output<typeof policySchema>;
export type CallTeam = z.output<typeof team>;
