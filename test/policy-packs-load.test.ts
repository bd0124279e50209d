import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RepayriskError } from '../src/core/errors.ts';
import { type Policy, PolicyError, parsePolicy } from '../src/core/policy/load.ts';
import { BUILTIN_PACK_FILES } from '../src/core/policy/packs/builtin.ts';
import { builtinPacks } from '../src/core/policy/packs/catalog.ts';
import { PackError, parsePackText } from '../src/core/policy/packs/schema.ts';
import { floorsOf, longestContactWindowDays } from '../src/core/policy/packs/select.ts';
import { readPackFiles } from '../src/registry/pack-files.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';

/**
 * Rule packs as data (DESIGN §6): the shipped files load strictly, the core's copy of them is not stale, a policy
 * selects a pack per account by region, and a policy that loosens a pack is refused naming the pack's clause.
 */

function thrown<E extends Error>(f: () => unknown, kind: new (...a: never[]) => E): E {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    expect(e).toBeInstanceOf(RepayriskError);
    return e as E;
  }
  throw new Error(`expected a ${kind.name}, nothing was thrown`);
}

const US = readFileSync('policies/packs/us-reg-f.yaml', 'utf8');

describe('the shipped rule packs', () => {
  it('are us-reg-f, cn-2025 and uk-conc, each versioned, each rule citing its clause', () => {
    const packs = builtinPacks();
    expect([...packs.keys()].sort()).toEqual(['cn-2025', 'uk-conc', 'us-reg-f']);
    for (const p of packs.values()) {
      expect(p.version.length).toBeGreaterThan(0);
      for (const [kind, rule] of Object.entries(p.rules))
        expect(rule?.source, `${p.pack}.${kind}`).toMatch(/\S{3}/);
    }
  });

  it('carry the floors of issue 16', () => {
    const p = builtinPacks();
    const us = p.get('us-reg-f')!.rules;
    expect([us.contact_hours?.start, us.contact_hours?.end]).toEqual(['08:00', '21:00']);
    expect([us.call_attempts?.max, us.call_attempts?.days, us.conversation_cooldown?.days]).toEqual([
      7, 7, 7,
    ]);
    expect(us.electronic_opt_out?.source).toBe('12 CFR 1006.14(h)');
    const cn = p.get('cn-2025')!.rules;
    expect([cn.contact_hours?.start, cn.contact_hours?.end, cn.connected_calls_per_day?.max]).toEqual([
      '08:00',
      '22:00',
      3,
    ]);
    expect(cn.third_party_ban).toBeDefined();
    const uk = p.get('uk-conc')!.rules;
    expect(uk.capacity_hold?.source).toBe('CONC 7.10.1R');
    expect(uk.third_party_ban).toBeDefined();
  });

  it('the core carries the files exactly (else: npx tsx scripts/write-packs.ts)', () => {
    expect(BUILTIN_PACK_FILES).toEqual(readPackFiles());
  });
});

describe('a pack file is loaded strictly', () => {
  const rows: [string, string, string, RegExp][] = [
    [
      'an unknown rule',
      US.replace('rules:\n', 'rules:\n  fax_curfew: { source: x }\n'),
      'rules.fax_curfew',
      /unknown field/,
    ],
    [
      'an unknown field in a rule',
      US.replace('    max: 7\n', '    max: 7\n    per: week\n'),
      'rules.call_attempts.per',
      /unknown field/,
    ],
    [
      'a cap of the wrong type',
      US.replace('    max: 7\n', '    max: seven\n'),
      'rules.call_attempts.max',
      /expected number.*\(got "seven"\)/,
    ],
    [
      'a rule without its clause',
      US.replace('    source: 12 CFR 1006.14(h)\n', ''),
      'rules.electronic_opt_out.source',
      /required field is missing \(expected string\)/,
    ],
    [
      'hours not HH:MM',
      US.replace('start: "08:00"', 'start: "8am"'),
      'rules.contact_hours.start',
      /HH:MM.*\(got "8am"\)/,
    ],
    [
      'a version that is a number',
      US.replace('version: "2021-11-30.1"', 'version: 3'),
      'version',
      /expected string.*\(got 3\)/,
    ],
    [
      'a name that is not the file name',
      US.replace('pack: us-reg-f', 'pack: us-reg-g'),
      'pack',
      /"us-reg-f".*\(got "us-reg-g"\)/,
    ],
  ];
  it.each(rows)(
    '%s: the error names the file, the field, what was expected and what came',
    (_n, text, path, what) => {
      const e = thrown(() => parsePackText(text, 'policies/packs/us-reg-f.yaml'), PackError);
      expect(e.message).toMatch(/^rule pack policies\/packs\/us-reg-f\.yaml is invalid/);
      const line = e.message.split('\n').find((l) => l.startsWith(`  - ${path}: `));
      expect(line, e.message).toBeDefined();
      expect(line).toMatch(what);
    },
  );

  it('bad YAML is named with the file', () => {
    const e = thrown(() => parsePackText('pack: [', 'policies/packs/x.yaml'), PackError);
    expect(e.message).toMatch(
      /^rule pack policies\/packs\/x\.yaml is invalid \(1 problem\):\n {2}- \(file\): not valid YAML/,
    );
  });
});

describe('a policy selects a pack per account by region', () => {
  const policy = parsePolicy(
    {
      version: 'packs',
      packs: {
        regions: { 'CN-31': 'cn-2025', 'GB-LND': 'uk-conc' },
        guardrails: { 'cn-2025': { contact_hours: { end: '22:00' }, conversation_cooldown_days: 0 } },
      },
    },
    'packs.yaml',
  );
  it.each([
    ['CN-31', 'cn-2025', '22:00', 0],
    ['GB-LND', 'uk-conc', '21:00', 7],
    ['IL', 'us-reg-f', '21:00', 7],
    ['CN-11 (not listed)', 'us-reg-f', '21:00', 7],
  ])('region %s → %s (contact hours end %s, cooldown %s days)', (region, pack, end, cooldown) => {
    const f = floorsOf(policy.packs, { region: region.split(' ')[0]! });
    expect(f.pack.pack).toBe(pack);
    expect(f.guardrails.contact_hours.end).toBe(end);
    expect(f.guardrails.conversation_cooldown_days).toBe(cooldown);
    // The pack's section changes only its own fields: the rest are the policy's.
    expect(f.guardrails.caps).toEqual(policy.guardrails.caps);
  });

  it('the shipped policies select us-reg-f for every account and keep their guardrails', async () => {
    for (const file of [
      'policies/default.yaml',
      'policies/challenger-plan-first.yaml',
      'policies/learned-ev.yaml',
    ]) {
      const p: Policy = await readPolicyFile(file);
      expect(p.packs.default, file).toBe('us-reg-f');
      expect(p.packs.regions.size, file).toBe(0);
      const f = floorsOf(p.packs, { region: 'anything' });
      expect(f.pack.pack).toBe('us-reg-f');
      expect(f.guardrails).toEqual(p.guardrails);
    }
  });

  it('the longest contact window covers every selected pack (a pack section may count further back)', () => {
    expect(longestContactWindowDays(policy.packs)).toBe(14); // the policy-wide letter cap: 2 in 14 days
    const longer = parsePolicy(
      {
        version: 'v',
        packs: {
          regions: { SH: 'cn-2025' },
          guardrails: { 'cn-2025': { caps: { sms: { attempts: 3, days: 30 } } } },
        },
      },
      'p.yaml',
    );
    expect(longestContactWindowDays(longer.packs)).toBe(30);
  });

  it('an unknown pack name is refused where it is written, with the known names', () => {
    const e = thrown(
      () =>
        parsePolicy(
          {
            version: 'v',
            packs: { default: 'us-reg-g', regions: { SH: 'cn-2024' }, guardrails: { eu: {} } },
          },
          'p.yaml',
        ),
      PolicyError,
    );
    expect(e.issues.map((i) => i.path).sort()).toEqual([
      'packs.default',
      'packs.guardrails.eu',
      'packs.regions.SH',
    ]);
    expect(e.message).toContain('expected a rule pack (known: cn-2025, uk-conc, us-reg-f) (got "cn-2024")');
  });

  it('a pack section with a bad field is refused under its own path', () => {
    const e = thrown(
      () =>
        parsePolicy({ version: 'v', packs: { guardrails: { 'cn-2025': { caps: { fax: {} } } } } }, 'p.yaml'),
      PolicyError,
    );
    expect(e.issues.map((i) => i.path)).toEqual(['packs.guardrails.cn-2025.caps.fax']);
  });
});

describe('a policy may tighten a pack, never loosen it: refused naming the clause', () => {
  const cn = (g: Record<string, unknown>) => ({
    version: 'v',
    packs: { regions: { SH: 'cn-2025' }, guardrails: { 'cn-2025': g } },
  });
  const rows: [string, unknown, string, RegExp][] = [
    [
      'US hours from 07:59',
      { version: 'v', guardrails: { contact_hours: { start: '07:59' } } },
      'guardrails.contact_hours.start',
      /08:00 or later.*us-reg-f, 12 CFR 1006\.6\(b\)\(1\)\(i\)/,
    ],
    [
      'US hours to 21:01',
      { version: 'v', guardrails: { contact_hours: { end: '21:01' } } },
      'guardrails.contact_hours.end',
      /21:00 or earlier.*12 CFR 1006\.6\(b\)\(1\)\(i\)/,
    ],
    [
      'US 8 calls in 7 days',
      { version: 'v', guardrails: { caps: { call: { attempts: 8, days: 7 } } } },
      'guardrails.caps.call.attempts',
      /at most 7 call attempts.*12 CFR 1006\.14\(b\)\(2\)\(i\)\(A\)/,
    ],
    [
      'US 7 calls in 6 days',
      { version: 'v', guardrails: { caps: { call: { attempts: 7, days: 6 } } } },
      'guardrails.caps.call.days',
      /at least 7 days.*12 CFR 1006\.14\(b\)\(2\)\(i\)\(A\)/,
    ],
    [
      'US cooldown 6 days',
      { version: 'v', guardrails: { conversation_cooldown_days: 6 } },
      'guardrails.conversation_cooldown_days',
      /at least 7 days.*12 CFR 1006\.14\(b\)\(2\)\(i\)\(B\)/,
    ],
    [
      'CN hours to 22:01',
      cn({ contact_hours: { end: '22:01' } }),
      'packs.guardrails.cn-2025.contact_hours.end',
      /22:00 or earlier.*cn-2025, NIFA 2024 guidelines/,
    ],
    [
      'CN 4 connected calls',
      cn({ connected_calls_per_day: 4 }),
      'packs.guardrails.cn-2025.connected_calls_per_day',
      /at most 3 connected calls.*cn-2025/,
    ],
    [
      'UK hours from 07:00, through the policy-wide section',
      { version: 'v', packs: { default: 'uk-conc' }, guardrails: { contact_hours: { start: '07:00' } } },
      'guardrails.contact_hours.start',
      /08:00 or later.*uk-conc, CONC 7\.9\.4R/,
    ],
  ];
  it.each(rows)('%s', (_n, raw, path, message) => {
    const e = thrown(() => parsePolicy(raw, 'loose.yaml'), PolicyError);
    expect(e.issues.map((i) => i.path)).toEqual([path]);
    expect(e.issues[0]!.message).toMatch(message);
    expect(e.message).toMatch(/^policy loose\.yaml is invalid \(1 problem\)/);
  });

  it('a pack section looser than the policy-wide guardrails but within its pack is accepted', () => {
    const p = parsePolicy(
      cn({
        contact_hours: { start: '08:00', end: '22:00' },
        conversation_cooldown_days: 0,
        connected_calls_per_day: 2,
      }),
      'cn.yaml',
    );
    const f = floorsOf(p.packs, { region: 'SH' });
    expect(f.guardrails.contact_hours).toEqual({ start: '08:00', end: '22:00' });
    expect(f.guardrails.connected_calls_per_day).toBe(2);
    expect(p.guardrails.contact_hours).toEqual({ start: '08:00', end: '21:00' });
  });

  it('a policy-wide value too loose for one selected pack is refused even when another pack allows it', () => {
    // 21:30 is within cn-2025 (22:00) but not within us-reg-f, the default pack of this policy.
    const e = thrown(
      () =>
        parsePolicy(
          {
            version: 'v',
            packs: { regions: { SH: 'cn-2025' } },
            guardrails: { contact_hours: { end: '21:30' } },
          },
          'p.yaml',
        ),
      PolicyError,
    );
    expect(e.issues.map((i) => i.message)).toEqual([
      'expected 21:00 or earlier (the floor of rule pack us-reg-f, 12 CFR 1006.6(b)(1)(i))',
    ]);
    // With cn-2025 the only pack selected, it is lawful.
    const cnOnly = parsePolicy(
      { version: 'v', packs: { default: 'cn-2025' }, guardrails: { contact_hours: { end: '21:30' } } },
      'p.yaml',
    );
    expect(floorsOf(cnOnly.packs, { region: 'IL' }).guardrails.contact_hours.end).toBe('21:30');
  });
});
