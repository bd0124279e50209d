import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepayriskError } from '../src/core/errors.ts';
import { GUARDRAILS } from '../src/core/policy/guardrails.ts';
import { type Policy, PolicyError, parsePolicy, parsePolicyText } from '../src/core/policy/load.ts';
import { builtinPacks } from '../src/core/policy/packs/catalog.ts';
import { REASON_CODES } from '../src/core/policy/reasons.ts';
import { LIMITS } from '../src/core/policy/schema.ts';
import { DEFAULT_POLICY_PATH, readPolicyFile } from '../src/registry/policy-file.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Loading a policy (DESIGN §6, STYLE §3): the shipped file documents the built-in defaults exactly, a bad file
 * lists every problem at once with its path, and guardrails can be tightened but never loosened.
 */

/** The PolicyError `f` throws (fails the test when it throws nothing or something else). */
function policyError(f: () => unknown): PolicyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    expect(e).toBeInstanceOf(RepayriskError);
    expect((e as PolicyError).code).toBe('invalid_data');
    return e as PolicyError;
  }
  throw new Error('expected a PolicyError, nothing was thrown');
}

const paths = (e: PolicyError) => e.issues.map((i) => i.path).sort();

describe('policies/default.yaml', () => {
  it('loads, and is exactly the built-in defaults', async () => {
    const file = await readPolicyFile();
    expect(file.version).toBe('default-2026.11.1');
    const builtIn = parsePolicy({ version: file.version, description: file.description }, 'built-in');
    expect(file.document).toEqual(builtIn.document);
    expect(file.champion).toEqual(builtIn.champion);
    expect(file.guardrails).toEqual(builtIn.guardrails);
    expect(file.challenger).toBeNull();
    expect(file.experiment).toBeNull();
    expect(file.capacity).toBeNull();
  });

  it('is the file readPolicyFile reads by default', async () => {
    expect(DEFAULT_POLICY_PATH.endsWith(join('policies', 'default.yaml'))).toBe(true);
    expect((await readPolicyFile(DEFAULT_POLICY_PATH)).document).toEqual((await readPolicyFile()).document);
  });

  it('sets every guardrail at its legal limit: the us-reg-f pack it selects for every account', async () => {
    const policy = await readPolicyFile();
    const g = policy.guardrails;
    const usRegF = builtinPacks().get('us-reg-f')!.rules;
    expect(policy.packs.default).toBe('us-reg-f');
    expect(policy.packs.regions.size).toBe(0);
    expect(g.contact_hours).toEqual({ start: usRegF.contact_hours!.start, end: usRegF.contact_hours!.end });
    expect(g.contact_hours).toEqual({ start: '08:00', end: '21:00' });
    expect(g.caps.call).toEqual({ attempts: usRegF.call_attempts!.max, days: usRegF.call_attempts!.days });
    expect(g.conversation_cooldown_days).toBe(usRegF.conversation_cooldown!.days);
    expect(g.legal.min_days_past_due).toBe(LIMITS.legalMinDaysPastDue);
    expect(g.legal.notice_min_age_days).toBe(LIMITS.legalNoticeMinAgeDays);
    expect(g.legal.min_overdue).toBe(500);
  });
});

describe('a bad policy lists every problem at once', () => {
  const BAD = `
version: bad-1
colour: red
segments: { willingness_high: 1.5 }
matrix: { high_willingness_high_ability: [gentle_nudge, pray] }
treatments: { human_call: { channels: [sms] } }
guardrails:
  contact_hours: { start: "07:00", end: "22:00" }
  caps: { call: { attempts: 9, days: 7 } }
  conversation_cooldown_days: 3
  legal: { min_days_past_due: 60, notice_min_age_days: 7 }
`;
  const EXPECTED: [string, string][] = [
    ['colour', 'unknown field'],
    ['segments.willingness_high', '1.5'],
    ['matrix.high_willingness_high_ability.1', '"pray"'],
    ['treatments.human_call.channels.0', '"sms"'],
    ['guardrails.caps.call.attempts', '9'],
    ['guardrails.contact_hours.start', '"07:00"'],
    ['guardrails.contact_hours.end', '"22:00"'],
    ['guardrails.legal.min_days_past_due', '60'],
    ['guardrails.legal.notice_min_age_days', '7'],
    ['guardrails.conversation_cooldown_days', '3'],
  ];

  it('names exactly the failing paths', () => {
    const e = policyError(() => parsePolicyText(BAD, 'bad.yaml'));
    expect(paths(e)).toEqual(EXPECTED.map(([p]) => p).sort());
    expect(e.source).toBe('bad.yaml');
    expect(e.message).toMatch(/^policy bad\.yaml is invalid \(10 problems\)/);
  });

  it.each(EXPECTED)('the message names %s and what it got', (path, got) => {
    const e = policyError(() => parsePolicyText(BAD, 'bad.yaml'));
    const line = e.message.split('\n').find((l) => l.startsWith(`  - ${path}: `));
    expect(line).toBeDefined();
    expect(line).toContain(got);
  });

  it('says which legal limit a loosened guardrail breaks', () => {
    const e = policyError(() => parsePolicyText(BAD, 'bad.yaml'));
    const msg = (p: string) => e.issues.find((i) => i.path === p)?.message;
    expect(msg('guardrails.caps.call.attempts')).toMatch(/at most 7/);
    expect(msg('guardrails.contact_hours.start')).toMatch(/08:00/);
    expect(msg('guardrails.contact_hours.end')).toMatch(/21:00/);
    expect(msg('guardrails.legal.min_days_past_due')).toMatch(/90/);
    expect(msg('guardrails.legal.notice_min_age_days')).toMatch(/14/);
    expect(msg('guardrails.conversation_cooldown_days')).toMatch(/7/);
  });

  const single: [string, unknown, string[]][] = [
    [
      'unknown nested field',
      { version: 'v', guardrails: { caps: { fax: { attempts: 1, days: 7 } } } },
      ['guardrails.caps.fax'],
    ],
    [
      'call cap window under 7 days',
      { version: 'v', guardrails: { caps: { call: { attempts: 3, days: 6 } } } },
      ['guardrails.caps.call.days'],
    ],
    [
      'contact hours ending before they start',
      { version: 'v', guardrails: { contact_hours: { start: '18:00', end: '09:00' } } },
      ['guardrails.contact_hours.end'],
    ],
    [
      'contact hours not HH:MM',
      { version: 'v', guardrails: { contact_hours: { start: '8am' } } },
      ['guardrails.contact_hours.start'],
    ],
    ['negative threshold', { version: 'v', segments: { ability_high: -0.1 } }, ['segments.ability_high']],
    ['unknown mode', { version: 'v', mode: 'greedy' }, ['mode']],
    [
      'a legal letter is not a nudge channel',
      { version: 'v', treatments: { gentle_nudge: { channels: ['legal'] } } },
      ['treatments.gentle_nudge.channels.0'],
    ],
    [
      'a treatment falling back to itself',
      { version: 'v', treatments: { plan_offer: { fallback: ['plan_offer'] } } },
      ['treatments.plan_offer.fallback'],
    ],
    ['missing version', { description: 'no version' }, ['version']],
    ['empty version', { version: '' }, ['version']],
    ['not an object', 'just a string', ['(root)']],
  ];
  it.each(single)('%s', (_name, raw, expected) => {
    const e = policyError(() => parsePolicy(raw, 'obj'));
    expect(paths(e)).toEqual(expected);
    for (const p of expected) expect(e.message).toContain(p);
  });

  it('tightened guardrails are accepted', () => {
    const p = parsePolicy(
      {
        version: 'strict',
        guardrails: {
          contact_hours: { start: '09:00', end: '20:00' },
          caps: { call: { attempts: 3, days: 14 } },
          conversation_cooldown_days: 10,
          legal: { min_days_past_due: 120, notice_min_age_days: 30, min_overdue: 1000 },
        },
      },
      'strict',
    );
    expect(p.guardrails.caps.call).toEqual({ attempts: 3, days: 14 });
    expect(p.guardrails.caps.sms).toEqual({ attempts: 3, days: 7 });
    expect(p.guardrails.legal).toEqual({
      min_days_past_due: 120,
      notice_min_age_days: 30,
      min_overdue: 1000,
    });
  });

  const texts: [string, string, string][] = [
    ['a YAML syntax error', 'version: [unclosed\n', 'not valid YAML or JSON'],
    ['duplicate keys', 'version: a\nmode: matrix\nversion: b\n', 'unique'],
    ['duplicate nested keys', 'version: a\nsegments:\n  ability_high: 0.5\n  ability_high: 0.7\n', 'unique'],
  ];
  it.each(texts)('%s is one (file) problem', (_name, text, words) => {
    const e = policyError(() => parsePolicyText(text, 'broken.yaml'));
    expect(paths(e)).toEqual(['(file)']);
    expect(e.message).toContain(words);
    expect(e.message).toContain('broken.yaml');
  });

  it('a missing version in a file', () => {
    const e = policyError(() => parsePolicyText('description: forgot the version\n', 'v.yaml'));
    expect(paths(e)).toEqual(['version']);
    expect(e.issues[0]?.message).toMatch(/missing/);
  });

  it('JSON is YAML too', () => {
    expect(parsePolicyText('{"version": "j1", "mode": "expected_value"}', 'p.json').champion.mode).toBe(
      'expected_value',
    );
  });
});

describe('champion / challenger in the policy file', () => {
  const withChallenger = (challenger: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    version: 'exp',
    ...extra,
    experiment: { name: 'trial', challenger_share: 0.3, challenger },
  });

  it.each([
    [
      'guardrails',
      { guardrails: { caps: { call: { attempts: 3, days: 7 } } } },
      ['experiment.challenger.guardrails'],
    ],
    ['version', { version: 'other' }, ['experiment.challenger.version']],
    ['capacity', { capacity: { total_slots: 5 } }, ['experiment.challenger.capacity']],
    [
      'guardrails and version at once',
      { guardrails: {}, version: 'x' },
      ['experiment.challenger.guardrails', 'experiment.challenger.version'],
    ],
  ])('a challenger may not override %s', (_name, challenger, expected) => {
    const e = policyError(() => parsePolicy(withChallenger(challenger), 'exp.yaml'));
    expect(paths(e)).toEqual(expected);
    for (const p of expected) expect(e.message).toContain(p);
  });

  it.each([
    [
      'an out-of-range threshold',
      { segments: { willingness_high: 2 } },
      ['experiment.challenger.segments.willingness_high'],
    ],
    [
      'an unknown treatment',
      { matrix: { low_willingness_high_ability: ['nope'] } },
      ['experiment.challenger.matrix.low_willingness_high_ability.0'],
    ],
    [
      'an unknown field inside a rule section',
      { plan: { max_term: 12 } },
      ['experiment.challenger.plan.max_term'],
    ],
  ])(
    "a challenger's bad value gets a path under experiment.challenger: %s",
    (_name, challenger, expected) => {
      const e = policyError(() => parsePolicy(withChallenger(challenger), 'exp.yaml'));
      expect(paths(e)).toEqual(expected);
      for (const p of expected) expect(e.message).toContain(p);
    },
  );

  it("lists the policy's own problems and the challenger's in one round, each once", () => {
    const e = policyError(() =>
      parsePolicy(
        withChallenger(
          { guardrails: {}, segments: { ability_high: -1 } },
          { segments: { willingness_high: 7 }, guardrails: { promise_grace_days: -2 } },
        ),
        'exp.yaml',
      ),
    );
    expect(paths(e).sort()).toEqual([
      'experiment.challenger.guardrails',
      'experiment.challenger.segments.ability_high',
      'guardrails.promise_grace_days',
      'segments.willingness_high',
    ]);
  });

  it("the challenger starts from the champion's own rules, not the built-in defaults", () => {
    const p = parsePolicy(
      withChallenger(
        { segments: { willingness_high: 0.7 } },
        { matrix: { low_willingness_high_ability: ['plan_offer'] }, segments: { ability_high: 0.4 } },
      ),
      'exp.yaml',
    );
    expect(p.challenger?.matrix.low_willingness_high_ability).toEqual(['plan_offer']);
    expect(p.challenger?.segments).toEqual({ willingness_high: 0.7, ability_high: 0.4 });
    expect(p.champion.segments).toEqual({ willingness_high: 0.6, ability_high: 0.4 });
    expect(p.experiment).toEqual({ name: 'trial', salt: 'trial', challengerShare: 0.3 });
  });

  it.each([0, 1, 1.5])('challenger_share %s is refused (must be strictly between 0 and 1)', (share) => {
    const e = policyError(() =>
      parsePolicy({ version: 'v', experiment: { name: 'n', challenger_share: share, challenger: {} } }, 'x'),
    );
    expect(paths(e)).toEqual(['experiment.challenger_share']);
  });
});

describe('human-call capacity', () => {
  const cap = (capacity: unknown): Policy => parsePolicy({ version: 'cap', capacity }, 'cap.yaml');

  it.each([
    ['both total_slots and teams', { total_slots: 10, teams: [{ name: 'a', slots: 5 }] }],
    ['neither total_slots nor teams', {}],
    [
      'duplicate team names',
      {
        teams: [
          { name: 'cards', slots: 5 },
          { name: 'cards', slots: 7 },
        ],
      },
    ],
  ])('%s is refused', (_name, capacity) => {
    const e = policyError(() => cap(capacity));
    expect(paths(e)).toEqual(['capacity']);
    expect(e.message).toContain('capacity');
  });

  it('one pool or named teams are accepted; absent means unlimited', () => {
    expect(cap({ total_slots: 40 }).capacity).toEqual({ totalSlots: 40 });
    expect(cap({ total_slots: 0 }).capacity).toEqual({ totalSlots: 0 });
    const teams = [
      { name: 'cards', slots: 40, products: ['card'] },
      { name: 'general', slots: 120 },
    ];
    expect(cap({ teams }).capacity).toEqual({ teams });
    expect(parsePolicy({ version: 'v' }, 'x').capacity).toBeNull();
  });

  it('refuses negative or fractional slots with the team path', () => {
    const e = policyError(() =>
      cap({
        teams: [
          { name: 'a', slots: -1 },
          { name: 'b', slots: 1.5 },
        ],
      }),
    );
    expect(paths(e)).toEqual(['capacity.teams.0.slots', 'capacity.teams.1.slots']);
  });
});

describe('reading policy files', () => {
  const dir = tmpDir();

  it('a missing file is an io error, not a validation error', async () => {
    const err = await readPolicyFile('/nonexistent').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepayriskError);
    expect(err).not.toBeInstanceOf(PolicyError);
    expect((err as RepayriskError).code).toBe('io');
    expect((err as RepayriskError).message).toContain('/nonexistent');
  });

  it('an invalid file on disk is a PolicyError naming the file', async () => {
    const path = join(dir, 'loose.yaml');
    writeFileSync(path, 'version: loose\nguardrails: { caps: { call: { attempts: 9, days: 7 } } }\n');
    const err = await readPolicyFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).source).toBe(path);
    expect((err as PolicyError).issues.map((i) => i.path)).toEqual(['guardrails.caps.call.attempts']);
  });
});

describe('docs/policy.md', () => {
  const doc = readFileSync('docs/policy.md', 'utf8');

  it('explains every guardrail and every reason code the engine can emit', () => {
    for (const g of GUARDRAILS) expect(doc, g).toContain(`\`${g}\``);
    for (const c of Object.keys(REASON_CODES)) expect(doc, c).toContain(`\`${c}\``);
  });

  it('its small example policy loads', () => {
    const block = doc
      .split('A small policy that changes two things:')[1]!
      .split('```yaml\n')[1]!
      .split('```')[0]!;
    const p = parsePolicyText(block, 'docs/policy.md');
    expect(p.champion.matrix.low_willingness_high_ability).toEqual(['plan_offer', 'human_call']);
    expect(p.guardrails.contact_hours).toEqual({ start: '09:00', end: '20:00' });
  });
});
