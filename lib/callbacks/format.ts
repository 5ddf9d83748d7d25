/**
 * The part of Python's str.format that Keras's ModelCheckpoint filepath uses: `{name}`,
 * `{name:spec}` with spec [[fill]align][sign][0][width][.precision][type], type one of d f F e E g G %,
 * and `{{` / `}}` for literal braces. Unformatted floats print as Python's repr (`0.5`, `1.0`, `1e-05`).
 */

const SPEC = /^(?:([\s\S])?([<>=^]))?([+\- ])?(0)?(\d+)?(?:\.(\d+))?([dfFeEgG%])?$/;

/** Python's exponent form: at least two digits, always signed (`1.5e-07`). */
function pyExponent(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    return sign + pyExponent(`${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${exp < 0 ? '-' : '+'}${Math.abs(exp)}`);
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}

/**
 * x.toFixed(p), but an exact tie rounds half to even as Python does (JS rounds it up:
 * (0.125).toFixed(2) is '0.13', Python's '%.2f' % 0.125 is '0.12'). A tie is exactly representable,
 * so its digits end at place p + 1.
 */
function fixed(x: number, p: number): string {
  const s = x.toFixed(p);
  if (p + 1 > 100) return s;
  const long = x.toFixed(p + 1);
  if (!long.endsWith('5') || Number(long) !== x) return s;
  const down = long.slice(0, -1).replace(/\.$/, '');
  const last = Number(down[down.length - 1]);
  return last % 2 === 0 ? down : s;
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Python's 'g': precision significant digits, fixed or exponent form, trailing zeros removed. */
function general(x: number, precision: number): string {
  const p = precision === 0 ? 1 : precision;
  const exp = Number(x.toExponential(p - 1).split('e')[1]);
  if (exp >= -4 && exp < p) return stripZeros(x.toFixed(p - 1 - exp));
  const [m, e] = x.toExponential(p - 1).split('e');
  return pyExponent(`${stripZeros(m)}e${e}`);
}

/** The digits of |x| for a type (no sign). */
function body(x: number, type: string | undefined, precision: number | undefined, isInt: boolean): string {
  const ax = Math.abs(x);
  if (!Number.isFinite(ax)) {
    const s = Number.isNaN(ax) ? 'nan' : 'inf';
    return type === '%' ? s + '%' : type === 'F' || type === 'E' || type === 'G' ? s.toUpperCase() : s;
  }
  switch (type) {
    case 'd':
      if (!Number.isInteger(ax)) throw new RangeError(`Format code 'd' needs an integer but the value is ${x}`);
      return String(ax);
    case 'f':
    case 'F':
      return fixed(ax, precision ?? 6);
    case 'e':
    case 'E': {
      const s = pyExponent(ax.toExponential(precision ?? 6));
      return type === 'E' ? s.toUpperCase() : s;
    }
    case 'g':
    case 'G': {
      const s = general(ax, precision ?? 6);
      return type === 'G' ? s.toUpperCase() : s;
    }
    case '%':
      return fixed(ax * 100, precision ?? 6) + '%';
    default:
      if (isInt && Number.isInteger(ax)) return String(ax);
      return precision === undefined ? pyFloatRepr(ax) : general(ax, precision);
  }
}

/** One value formatted by a Python format spec. */
export function formatValue(x: number, spec: string, isInt: boolean): string {
  const m = SPEC.exec(spec);
  if (!m) throw new RangeError(`Unsupported format spec '${spec}' (supported: [[fill]align][sign][0][width][.precision][d|f|e|g|%])`);
  const [, fillChar, alignChar, signChar, zero, widthText, precText, type] = m;
  const negative = x < 0 || Object.is(x, -0);
  const sign = negative ? '-' : signChar === '+' ? '+' : signChar === ' ' ? ' ' : '';
  const digits = body(x, type, precText === undefined ? undefined : Number(precText), isInt);
  const width = widthText === undefined ? 0 : Number(widthText);
  const fill = fillChar ?? (zero && !alignChar ? '0' : ' ');
  const align = alignChar ?? (zero ? '=' : '>');
  const pad = Math.max(0, width - sign.length - digits.length);
  switch (align) {
    case '<':
      return sign + digits + fill.repeat(pad);
    case '^':
      return fill.repeat(Math.floor(pad / 2)) + sign + digits + fill.repeat(pad - Math.floor(pad / 2));
    case '=':
      return sign + fill.repeat(pad) + digits;
    default:
      return fill.repeat(pad) + sign + digits;
  }
}

/**
 * Fills a template's fields from values; a key in `ints` prints as an integer (epoch), the rest as
 * floats (log values, as Keras's are). An unknown field is a RangeError listing the known ones.
 */
export function formatTemplate(template: string, values: Record<string, number | undefined>, ints: readonly string[] = []): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      out += c;
      i += 2;
    } else if (c === '}') {
      throw new RangeError(`Single '}' at position ${i} of filepath '${template}' (write '}}' for a literal brace)`);
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw new RangeError(`Unclosed '{' at position ${i} of filepath '${template}' (write '{{' for a literal brace)`);
      const field = template.slice(i + 1, end);
      const colon = field.indexOf(':');
      const name = colon < 0 ? field : field.slice(0, colon);
      const v = values[name];
      if (typeof v !== 'number') {
        const known = Object.keys(values).filter((k) => typeof values[k] === 'number');
        throw new RangeError(`Filepath '${template}' names '{${name}}', which is not among the values it can use: ${known.join(', ')}`);
      }
      out += formatValue(v, colon < 0 ? '' : field.slice(colon + 1), ints.includes(name));
      i = end + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
