/** Flag parsing on node:util parseArgs, with number checks that name the flag. */
import { parseArgs } from 'node:util';
import { usageError } from './errors';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean', short: 'v' },
};

export type Values = Record<string, string | boolean | undefined>;

/** Parses argv for one command; unknown flags and stray positionals are usage errors. */
export function parseCommandArgs(command: string, argv: string[], options: OptionSpec): Values {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw usageError(`densenorm ${command}: unexpected argument "${positionals[0]}"`);
    return values as Values;
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      throw usageError(`densenorm ${command}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
    }
    throw e;
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(values: Values, name: string): boolean {
  return values[name] === true;
}

function numberText(s: string): number {
  const t = s.trim();
  return t === '' ? NaN : Number(t);
}

/** An integer flag in [min, max]. */
export function intFlag(values: Values, name: string, def: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const s = str(values, name);
  if (s === undefined) return def;
  const v = numberText(s);
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw usageError(`--${name} expects an integer${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`}, got "${s}"`);
  }
  return v;
}

/** A number flag; bounds as text for the message. */
export function numFlag(values: Values, name: string, def: number | undefined, ok: (v: number) => boolean, expected: string): number | undefined {
  const s = str(values, name);
  if (s === undefined) return def;
  const v = numberText(s);
  if (!Number.isFinite(v) || !ok(v)) throw usageError(`--${name} expects ${expected}, got "${s}"`);
  return v;
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(values: Values, name: string, def: T, allowed: readonly T[]): T {
  const s = str(values, name);
  if (s === undefined) return def;
  const v = s.toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) throw usageError(`--${name} expects ${allowed.join(' | ')}, got "${s}"`);
  return v as T;
}
