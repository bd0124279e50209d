import { InvalidArgumentError } from 'commander';
import { isIsoTimestamp } from '../core/schema/iso-text.ts';

/** Commander parser for an integer option within bounds; the error names what was expected and what came. */
export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${name} must be an integer, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in [${min}, ${max}], got ${n}`);
    return n;
  };
}

/** Commander parser for one of a fixed set of words. */
export function choiceOption<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} must be one of ${choices.join('|')}, got '${value}'`);
    }
    return value as T;
  };
}

/** Commander parser for a comma-separated list of names. */
export function listOption(name: string) {
  return (value: string): string[] => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((p) => p === ''))
      throw new InvalidArgumentError(`${name} must be comma-separated names, got '${value}'`);
    return parts;
  };
}

/** Commander parser for a number within bounds. */
export function numberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}], got '${value}'`);
    }
    return n;
  };
}

/** Commander parser for a JSON object (hyperparameters per kind). */
export function jsonObjectOption(name: string) {
  return (value: string): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch {
      throw new InvalidArgumentError(
        `${name} must be a JSON object like '{"mlp":{"epochs":20}}', got '${value}'`,
      );
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new InvalidArgumentError(`${name} must be a JSON object, got '${value}'`);
    }
    return v as Record<string, unknown>;
  };
}

/** Commander parser for `--now`: an ISO 8601 instant with an offset, as epoch milliseconds. */
export function instantOption(value: string): number {
  if (!isIsoTimestamp(value))
    throw new InvalidArgumentError(
      `--now must be an ISO 8601 time with an offset (e.g. 2026-11-25T14:30:00Z), got '${value}'`,
    );
  return Date.parse(value);
}
