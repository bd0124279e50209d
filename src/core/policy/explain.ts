import { type Pack, RULE_GUARDRAIL, type RuleKind } from './packs/schema.ts';

/**
 * Plain-language explanations of recorded decisions (China PIPL art. 24: an explanation of an automated decision
 * with significant effect on request; GDPR / UK GDPR art. 22: meaningful information about the logic involved).
 * Pure: built from the decision as the ledger recorded it and the rule pack it was decided under, so the same
 * record always gives the same words, whenever it is asked for. The words are for the customer: no codes, no
 * scores printed to three decimals, no staff jargon; the structured parts carry the codes beside the words for
 * the case manager who hands it over.
 */

/** What an explanation reads of a recorded decision (the ledger's DecisionRecord has these fields). */
export interface ExplainableDecision {
  decision_id: string;
  /** ISO 8601 UTC. */
  decided_at: string;
  account_id: string;
  model_version: string;
  policy_version: string;
  treatment: string;
  channel: string | null;
  /** ISO 8601 with the customer's local offset, or null. */
  earliest_contact_at: string | null;
  offer: { monthly_payment: number; term_months: number } | null;
  reason_codes: readonly string[];
  reasons: readonly string[];
  guardrails: readonly string[];
  /** "feature (+0.12)" strings, strongest first; null when the decision did not record them. */
  drivers: { willingness: readonly string[]; ability: readonly string[] } | null;
  rule_pack: string | null;
  rule_pack_version: string | null;
}

/** One reason, in the customer's words, with the code it came from. */
export interface ExplainedReason {
  code: string;
  text: string;
}

/** One of the model's strongest drivers, in words. */
export interface ExplainedDriver {
  /** Which estimate it moved: the chance of a payment soon (willingness), or of covering the overdue (ability). */
  score: 'willingness' | 'ability';
  feature: string;
  /** What the feature is, in words ("how many days your payment is overdue"). */
  phrase: string;
  /** Whether it raised or lowered that estimate. */
  effect: 'raised' | 'lowered';
  /** Its signed contribution to the estimate's log-odds, as recorded. */
  contribution: number;
}

/** A rule that applied, in words, with the clause it comes from when the rule pack cites one. */
export interface ExplainedRule {
  guardrail: string;
  text: string;
  source: string | null;
}

/** A plain-language explanation of one decision: paragraphs to hand over, and the parts they were built from. */
export interface Explanation {
  decision_id: string;
  account_id: string;
  decided_at: string;
  policy_version: string;
  model_version: string;
  /** What was decided: the treatment code and a sentence. */
  decision: { treatment: string; summary: string; automated: boolean };
  reasons: ExplainedReason[];
  drivers: ExplainedDriver[];
  rules: {
    applied: ExplainedRule[];
    /** The jurisdiction's rule pack, with every clause it enforces; null when the decision did not record one. */
    pack: {
      name: string;
      version: string | null;
      title: string | null;
      /** The pack's version now, when it differs from the one recorded (the clauses listed are the current ones). */
      current_version: string | null;
      clauses: { rule: string; source: string }[];
    } | null;
  };
  /** The right to ask for a person to decide, and how. */
  rights: { basis: string | null; text: string };
  /** The explanation as paragraphs, in order. */
  text: string[];
}

/** Channel names in words. */
const CHANNEL_WORDS: Readonly<Record<string, string>> = {
  sms: 'text message',
  email: 'email',
  app: 'a message in our app',
  call: 'phone',
  letter: 'letter',
  visit: 'a visit',
  legal: 'a legal notice',
};

/**
 * Each feature the models read, in words a customer understands (docs/features.md defines them). A test holds
 * this list equal to the feature set, so a new feature cannot reach an explanation as a bare name.
 */
export const FEATURE_PHRASES: Readonly<Record<string, string>> = {
  days_past_due: 'how many days your payment is overdue',
  log_amount_overdue: 'the amount overdue',
  overdue_to_installment: 'how many instalments behind you are',
  log_balance: 'the balance you owe',
  balance_to_limit: 'how much of your credit limit is used',
  balance_to_principal: 'how much of the loan is still to repay',
  apr: 'the interest rate on your account',
  months_on_book: 'how long you have had the account',
  product: 'the kind of credit product',
  age: 'your age',
  log_income: 'the monthly income you told us',
  income_verified: 'whether your income was verified',
  debt_service_to_income: 'your repayments and arrears compared with your income',
  log_debt_service_to_income: 'your repayments and arrears compared with your income',
  installment_to_income: 'your instalment compared with your income',
  employment_status: 'your employment status',
  preferred_channel: 'how you prefer to be contacted',
  phone_valid: 'whether we have a working phone number for you',
  email_valid: 'whether we have a working email address for you',
  hardship_flag: 'financial difficulty you told us about',
  vulnerable_flag: 'circumstances that make you need extra care',
  dispute_open: 'an open dispute about the debt',
  suppressed: 'a stop on collection (bereavement, bankruptcy or a request to stop contact)',
  complaint_open: 'an open complaint',
  days_since_legal_notice: 'when a formal notice was sent to you',
  paid_ratio_3m: 'how much of what was due you paid over the last 3 months',
  paid_ratio_6m: 'how much of what was due you paid over the last 6 months',
  paid_ratio_12m: 'how much of what was due you paid over the last 12 months',
  missed_12m: 'instalments missed in the last 12 months',
  worst_days_late_12m: 'your latest payment in the last 12 months',
  on_time_share_12m: 'how many instalments you paid on time in the last 12 months',
  mean_days_early_12m: 'how early your on-time payments usually were',
  mean_days_late_12m: 'how late your late payments usually were',
  mean_days_to_first_payment_12m: 'how soon after the due date you usually started paying',
  part_paid_12m: 'instalments you paid in part in the last 12 months',
  months_since_last_payment_12m: 'how long ago your last payment was',
  installments_seen_12m: 'how many instalments were due in the last 12 months',
  contacts_90d: 'how often we contacted you in the last 90 days',
  calls_90d: 'how often we called you in the last 90 days',
  rpc_rate_90d: 'how often our calls reached you in the last 90 days',
  promises_12m: 'promises to pay you made in the last 12 months',
  promises_kept_12m: 'promises to pay you kept in the last 12 months',
  promises_broken_12m: 'promises to pay that were not kept in the last 12 months',
  refusals_12m: 'times you told us you would not pay in the last 12 months',
  days_since_last_contact_12m: 'how long ago we last contacted you',
  days_since_last_rpc_12m: 'how long ago we last spoke with you',
};

/**
 * Each reason code in the customer's words, or null where the code records a working detail of the decision that
 * says nothing to the customer (a matrix cell, a call slot). A test holds this list equal to the reason codes.
 */
export const REASON_WORDS: Readonly<Record<string, string | null>> = {
  NOT_DELINQUENT: 'Your account is not far enough behind for us to take any collection step.',
  SUPPRESSED:
    'Something on your account (for example a bereavement, a bankruptcy, a dispute or your request that we stop contacting you) means collection contact has stopped; a specialist team will look at your account.',
  HUMAN_REVIEW_REQUESTED:
    'You asked for a person to decide, so no automated decision was taken: a member of our staff will decide.',
  WILLINGNESS_HIGH: 'Our system estimated that you are likely to make a payment soon.',
  WILLINGNESS_LOW: 'Our system estimated a lower chance that you will make a payment soon without our help.',
  ABILITY_HIGH: 'Our system estimated that you can likely cover the amount overdue.',
  ABILITY_LOW: 'Our system estimated that covering the whole amount overdue may be hard for you.',
  WILLINGNESS_DRIVER: null,
  ABILITY_DRIVER: null,
  MATRIX_CELL: null,
  EXPECTED_VALUE_BEST:
    'Of the steps open to us, this one was estimated to do most to help settle the amount overdue.',
  RESPONSE_OUTSIDE_SUPPORT: null,
  BROKEN_PROMISE_FOLLOW_UP:
    'A payment you promised did not arrive by the agreed date, so we are following it up.',
  FALLBACK:
    'A step we would otherwise have taken is not allowed by our rules here, so another step was chosen.',
  HARDSHIP_PLAN:
    'Because of the difficulty or circumstances you told us about, we will not take legal action; we offer a repayment plan instead.',
  CAPACITY_SPILL: 'Our team had no time free for this today, so another way of contacting you was chosen.',
  ALL_BLOCKED: 'Our rules allow no collection step today, so nothing will be done for now.',
  STAGE_NOT_REACHED:
    'We try gentler steps first: a firmer step waits until the earlier ones have been tried.',
  STAGE_ESCALATED: 'An earlier step was tried or could not be used, so we moved to the next one.',
  CALL_SLOT: null,
  VISIT_SLOT: null,
  PREFERRED_CHANNEL: 'We will use the way of contact you told us you prefer.',
  CHEAPEST_CHANNEL: 'The way of contact you prefer could not be used, so we chose another.',
  PLAN_SIZED: 'The plan was sized to what we estimate you can afford each month.',
  PLAN_ABOVE_CAPACITY:
    'Even our most flexible plan may be more than you can afford: please tell us about your situation.',
  FORBEARANCE_TOKEN_PAYMENT:
    'Because a full plan is more than you can afford, we offer a small token payment with interest and charges frozen, and will review it with you later.',
  FORBEARANCE_INTEREST_FREEZE: 'We offer a reduced payment you can afford, with interest and charges frozen.',
  NO_LUMP_SUM: 'We will never ask you to pay the whole amount at once.',
  DEBT_ADVICE_REFERRAL: 'You can get free, independent debt advice; our offer says where.',
  CONTACT_NOW: null,
  SCHEDULED: 'We will contact you only in the hours our rules allow, in your own time zone.',
};

/** Each guardrail (a rule that applied) in the customer's words. A test holds this list equal to the guardrails. */
export const GUARDRAIL_WORDS: Readonly<Record<string, string>> = {
  deceased: 'We have been told of a bereavement; collection has stopped.',
  bankruptcy: 'A bankruptcy or insolvency is recorded; collection has stopped.',
  dispute_open: 'You have disputed the debt: collection stops until we have answered.',
  cease_and_desist: 'You asked us to stop contacting you.',
  vulnerable_no_legal: 'Because of your circumstances, we will not take legal action.',
  hardship_no_legal: 'Because of the financial difficulty you told us about, we will not take legal action.',
  legal_days_past_due: 'Legal action is not allowed until the account has been overdue long enough.',
  legal_min_overdue: 'The amount overdue is below the level at which legal action may be considered.',
  legal_notice: 'Legal action needs a formal notice sent to you well in advance.',
  complaint_open: 'You have an open complaint: no legal action while it is open.',
  promise_pending: 'You promised a payment whose date has not passed yet: we wait for it.',
  do_not_call: 'You asked not to be called.',
  phone_invalid: 'We have no working phone number for you.',
  email_invalid: 'We have no working email address for you.',
  cap_call: 'We have already called you as often as our limits allow for now.',
  cap_sms: 'We have already sent you as many text messages as our limits allow for now.',
  cap_email: 'We have already emailed you as often as our limits allow for now.',
  cap_app: 'We have already messaged you in our app as often as our limits allow for now.',
  cap_letter: 'We have already written to you as often as our limits allow for now.',
  conversation_cooldown: 'We spoke with you recently, so we will not call again yet.',
  outside_contact_hours: 'It was outside the hours in which we may contact you.',
  vulnerable_no_visit: 'Because of your circumstances, we will not visit you.',
  hardship_no_visit: 'Because of the financial difficulty you told us about, we will not visit you.',
  visit_hours: 'A visit is allowed only at certain hours.',
  cap_visit: 'We have already visited as often as our limits allow for now.',
  placement_days_past_due: 'Your debt may not be passed to a collection agency this early.',
  vulnerable_no_placement:
    'Because of your circumstances, your debt will not be passed to a collection agency.',
  cap_connected_calls: 'We have already spoken with you by phone as often as allowed today.',
  opt_out: 'You opted out of a way of contact, and we no longer use it.',
  third_party: 'We do not use a number or address that reached someone other than you.',
  capacity_hold: 'A concern about managing your finances was noted: recovery is paused.',
  forbearance: 'Our rules on help for customers in difficulty shaped the plan we offer.',
  no_lump_sum: 'We will not ask for the whole amount at once.',
  human_review: 'You asked for a person to decide, so our automated system took no step.',
};

/** The pack rule kind each guardrail enforces (the reverse of RULE_GUARDRAIL). */
const GUARDRAIL_RULE: ReadonlyMap<string, RuleKind> = new Map(
  (Object.entries(RULE_GUARDRAIL) as [RuleKind, string][]).map(([k, g]) => [g, k]),
);

const money = (x: number) => x.toFixed(2);
/** "2026-11-25 15:00 UTC": the instant in a form anyone reads. */
const when = (iso: string) => `${new Date(Date.parse(iso)).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** "2026-11-25 09:00 (UTC-06:00)": a local time as recorded, with its offset. */
function localWhen(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return iso;
  return `${m[1]} ${m[2]} (your local time, UTC${m[3] === 'Z' ? '' : m[3]})`;
}

/** What was decided, in one sentence. */
function summary(d: ExplainableDecision, requestedAt: string | null): string {
  const by = d.channel ? (CHANNEL_WORDS[d.channel] ?? d.channel) : null;
  const from = d.earliest_contact_at ? `, not before ${localWhen(d.earliest_contact_at)}` : '';
  switch (d.treatment) {
    case 'hold':
      return d.reason_codes.includes('SUPPRESSED')
        ? 'We will not contact you to collect this debt; a specialist team will look at your account.'
        : 'We will not contact you to collect this debt for now.';
    case 'gentle_nudge':
      return `We will send you a reminder${by ? ` by ${by}` : ''}${from}.`;
    case 'plan_offer':
      return d.offer
        ? `We will offer you a repayment plan of ${money(d.offer.monthly_payment)} a month for ${d.offer.term_months} months${by ? `, by ${by}` : ''}${from}.`
        : `We will offer you a repayment plan${by ? `, by ${by}` : ''}${from}.`;
    case 'human_call':
      return `A member of our team will call you to talk about the debt${from}.`;
    case 'field_visit':
      return `A member of our team may visit you to talk about the debt${from}.`;
    case 'agency_placement':
      return 'Your debt may be passed to a collection agency, which will contact you.';
    case 'legal':
      return `We may start legal proceedings to recover the debt${by ? `; you will be told by ${by}` : ''}.`;
    case 'human_review':
      return `As you asked${requestedAt ? ` on ${requestedAt}` : ''}, a member of our staff, not an automated system, will decide what happens next; until then we take no automated collection step.`;
    default:
      return `The step decided was "${d.treatment}".`;
  }
}

/** "days_past_due (-0.84)" → feature and contribution; a recorded driver in another form is kept as its text. */
function parseDriver(s: string): { feature: string; contribution: number } | null {
  const m = /^(.+) \(([+-]?\d+(?:\.\d+)?)\)$/.exec(s);
  return m ? { feature: m[1]!, contribution: Number(m[2]) } : null;
}

/** A feature's words: its own, or those of the feature a one-hot column (`product=card`) belongs to. */
function phraseOf(feature: string): string {
  return FEATURE_PHRASES[feature] ?? FEATURE_PHRASES[feature.split('=')[0]!] ?? feature.replace(/_/g, ' ');
}

/**
 * Explains a recorded decision in plain language.
 * @param d the decision as the ledger recorded it.
 * @param pack the rule pack named by `d.rule_pack` as the service holds it now, or null (none recorded, or no
 *   longer known): its clauses are listed, and a version differing from the recorded one is said.
 */
export function explainDecision(d: ExplainableDecision, pack: Pack | null): Explanation {
  const automated = d.treatment !== 'human_review';
  const requested = /human decision requested at (\S+): no automated/.exec(
    d.reasons[d.reason_codes.indexOf('HUMAN_REVIEW_REQUESTED')] ?? '',
  )?.[1];
  const requestedAt = requested ? when(requested) : null;
  const decision = { treatment: d.treatment, summary: summary(d, requestedAt), automated };

  const reasons: ExplainedReason[] = [];
  const said = new Set<string>();
  for (const code of d.reason_codes) {
    const text = code in REASON_WORDS ? REASON_WORDS[code] : 'A further rule of our policy applied.';
    if (!text || said.has(text)) continue;
    said.add(text);
    reasons.push({ code, text });
  }

  const drivers: ExplainedDriver[] = [];
  for (const score of ['willingness', 'ability'] as const)
    for (const raw of d.drivers?.[score] ?? []) {
      const p = parseDriver(raw);
      if (!p || p.contribution === 0) continue;
      drivers.push({
        score,
        feature: p.feature,
        phrase: phraseOf(p.feature),
        effect: p.contribution > 0 ? 'raised' : 'lowered',
        contribution: p.contribution,
      });
    }

  const rulesOfPack = pack?.rules as Record<string, { source: string } | undefined> | undefined;
  const applied: ExplainedRule[] = [...new Set(d.guardrails)].map((g) => {
    const kind = GUARDRAIL_RULE.get(g);
    return {
      guardrail: g,
      text: GUARDRAIL_WORDS[g] ?? 'A further rule of our policy applied.',
      source: (kind && rulesOfPack?.[kind]?.source) ?? null,
    };
  });
  const packPart =
    d.rule_pack === null
      ? null
      : {
          name: d.rule_pack,
          version: d.rule_pack_version,
          title: pack?.title ?? null,
          current_version: pack && pack.version !== d.rule_pack_version ? pack.version : null,
          clauses: Object.entries(rulesOfPack ?? {}).flatMap(([rule, r]) =>
            r ? [{ rule, source: r.source }] : [],
          ),
        };

  // Where the right to a human decision comes from: the pack's own rule; a pack without one, the lender's policy.
  const basis = pack?.rules.automated_decision_rights?.source ?? null;
  const rightsText = automated
    ? `You have the right to ask for a person to review this decision and decide instead of our automated system${basis ? ` (${basis})` : ''}. Tell us by phone, letter, email, in our app or on our website, quoting decision ${d.decision_id}. From the moment you ask, we take no automated collection step on your account until a member of our staff has decided.`
    : `A member of our staff will decide, as you asked${basis ? ` (${basis})` : ''}. You will be told the outcome, and you may ask for this explanation again at any time, quoting decision ${d.decision_id}.`;

  const text: string[] = [
    `On ${when(d.decided_at)} we decided what to do next about the overdue payments on account ${d.account_id}. ${decision.summary}`,
  ];
  if (reasons.length) text.push(`Why: ${reasons.map((r) => r.text).join(' ')}`);
  if (drivers.length) {
    const part = (score: 'willingness' | 'ability', what: string) => {
      const mine = drivers.filter((x) => x.score === score);
      return mine.length
        ? `${what}, the things that weighed most were ${mine.map((x) => `${x.phrase} (which ${x.effect} it)`).join(', ')}.`
        : '';
    };
    text.push(
      [
        'Our system estimates from your account’s history how likely a payment is soon, and how likely it is to cover the amount overdue.',
        part('willingness', 'In the first estimate'),
        part('ability', 'In the second'),
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  if (applied.length || packPart) {
    const rules = applied.map((r) => `${r.text}${r.source ? ` (${r.source})` : ''}`).join(' ');
    const packText = packPart
      ? `Your account is handled under the rules for ${packPart.title ?? packPart.name}${packPart.version ? ` (version ${packPart.version})` : ''}${packPart.clauses.length ? `, which include: ${packPart.clauses.map((c) => c.source).join('; ')}` : ''}.`
      : '';
    text.push(['Rules that applied:', rules, packText].filter(Boolean).join(' '));
  }
  text.push(rightsText);
  text.push(
    `This decision was made under policy ${d.policy_version} with model ${d.model_version}; its reference is ${d.decision_id}.`,
  );

  return {
    decision_id: d.decision_id,
    account_id: d.account_id,
    decided_at: d.decided_at,
    policy_version: d.policy_version,
    model_version: d.model_version,
    decision,
    reasons,
    drivers,
    rules: { applied, pack: packPart },
    rights: { basis, text: rightsText },
    text,
  };
}
