// The lift tables the built-in policy carried until they were re-estimated from a fitted response artifact
// (scripts/write-lifts.ts). Tests of the expected-value mechanism, and the golden decisions captured before the
// staged flow (test/golden/decide-unstaged.json), were written against these numbers; the tests now pass them
// explicitly, so re-estimating the shipped lifts changes no mechanism test.
import type { Segment } from '../../src/core/policy/schema.ts';
import type { Treatment } from '../../src/core/schema/enums.ts';

type Lift = { pay: number; cover: number };

/** Per segment and treatment, logit-scale lifts (a field visit priced as a call, a placement as legal). */
export const CAPTURED_LIFTS: Record<Segment, Record<Treatment, Lift>> = {
  high_willingness_high_ability: {
    hold: { pay: -0.21, cover: 0 },
    gentle_nudge: { pay: 0, cover: 0.08 },
    plan_offer: { pay: 0.22, cover: -0.72 },
    human_call: { pay: 0.58, cover: 0.28 },
    legal: { pay: 0.15, cover: 0.31 },
    field_visit: { pay: 0.58, cover: 0.28 },
    agency_placement: { pay: 0.15, cover: 0.31 },
  },
  high_willingness_low_ability: {
    hold: { pay: -0.31, cover: 0 },
    gentle_nudge: { pay: -0.23, cover: 0.16 },
    plan_offer: { pay: 0.85, cover: -0.64 },
    human_call: { pay: -0.02, cover: 0.36 },
    legal: { pay: -0.5, cover: 0.03 },
    field_visit: { pay: -0.02, cover: 0.36 },
    agency_placement: { pay: -0.5, cover: 0.03 },
  },
  low_willingness_high_ability: {
    hold: { pay: -0.2, cover: 0 },
    gentle_nudge: { pay: -0.16, cover: 0.08 },
    plan_offer: { pay: 0.05, cover: -0.72 },
    human_call: { pay: 0.78, cover: 0.28 },
    legal: { pay: 0.16, cover: 0.29 },
    field_visit: { pay: 0.78, cover: 0.28 },
    agency_placement: { pay: 0.16, cover: 0.29 },
  },
  low_willingness_low_ability: {
    hold: { pay: -0.39, cover: 0 },
    gentle_nudge: { pay: -0.36, cover: 0.22 },
    plan_offer: { pay: 0.34, cover: -0.58 },
    human_call: { pay: -0.05, cover: 0.42 },
    legal: { pay: -0.59, cover: 0.09 },
    field_visit: { pay: -0.05, cover: 0.42 },
    agency_placement: { pay: -0.59, cover: 0.09 },
  },
};
