// Python's datetime/timedelta as far as templates use them: to_datetime, strftime, `a - b`, `.days`,
// `.total_seconds()`. Wall-clock fields are kept as given (naive datetimes, no time zone).
import { PyTypeError } from './python.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export class PyTimedelta {
  readonly days: number;
  readonly seconds: number;
  readonly microseconds: number;
  constructor(totalMicros: number) {
    const day = 86_400_000_000;
    this.days = Math.floor(totalMicros / day);
    const rest = totalMicros - this.days * day;
    this.seconds = Math.floor(rest / 1_000_000);
    this.microseconds = rest - this.seconds * 1_000_000;
  }

  total_seconds(): number {
    return this.days * 86400 + this.seconds + this.microseconds / 1e6;
  }

  toString(): string {
    const h = Math.floor(this.seconds / 3600);
    const m = Math.floor((this.seconds % 3600) / 60);
    const s = this.seconds % 60;
    const day = this.days !== 0 ? `${this.days} day${Math.abs(this.days) === 1 ? '' : 's'}, ` : '';
    return `${day}${h}:${pad(m)}:${pad(s)}${this.microseconds ? `.${pad(this.microseconds, 6)}` : ''}`;
  }
}
Object.defineProperty(PyTimedelta, 'name', { value: 'timedelta' });

export class PyDateTime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
  ) {}

  /** Microseconds since 1970-01-01 of the wall-clock fields (as if UTC). */
  micros(): number {
    return Date.UTC(this.year, this.month - 1, this.day, this.hour, this.minute, this.second) * 1000 + this.microsecond;
  }

  static fromMicros(us: number): PyDateTime {
    const ms = Math.floor(us / 1000);
    const d = new Date(ms);
    return new PyDateTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), us - ms * 1000 + d.getUTCMilliseconds() * 1000);
  }

  weekday(): number {
    return (new Date(Date.UTC(this.year, this.month - 1, this.day)).getUTCDay() + 6) % 7;
  }

  strftime(fmt: unknown): string {
    return strftime(String(fmt), this);
  }

  timestamp(): number {
    return this.micros() / 1e6;
  }

  isoformat(): string {
    return this.toString().replace(' ', 'T');
  }

  date(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }

  toString(): string {
    return `${this.date()} ${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}${this.microsecond ? `.${pad(this.microsecond, 6)}` : ''}`;
  }
}
Object.defineProperty(PyDateTime, 'name', { value: 'datetime' });

/** Python `a - b` for datetimes and timedeltas; undefined when neither side is one of them. */
export function timeSub(a: unknown, b: unknown): unknown {
  if (a instanceof PyDateTime && b instanceof PyDateTime) return new PyTimedelta(a.micros() - b.micros());
  if (a instanceof PyDateTime && b instanceof PyTimedelta) return PyDateTime.fromMicros(a.micros() - tdMicros(b));
  if (a instanceof PyTimedelta && b instanceof PyTimedelta) return new PyTimedelta(tdMicros(a) - tdMicros(b));
  return undefined;
}

function tdMicros(t: PyTimedelta): number {
  return t.days * 86_400_000_000 + t.seconds * 1_000_000 + t.microseconds;
}

function dayOfYear(d: PyDateTime): number {
  return Math.round((Date.UTC(d.year, d.month - 1, d.day) - Date.UTC(d.year, 0, 1)) / 86_400_000) + 1;
}

/** C strftime for the common directives (the C locale). */
export function strftime(fmt: string, d: PyDateTime): string {
  return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => {
    const h12 = d.hour % 12 === 0 ? 12 : d.hour % 12;
    switch (c) {
      case 'Y':
        return String(d.year);
      case 'y':
        return pad(d.year % 100);
      case 'm':
        return pad(d.month);
      case 'd':
        return pad(d.day);
      case 'e':
        return String(d.day).padStart(2, ' ');
      case 'H':
        return pad(d.hour);
      case 'I':
        return pad(h12);
      case 'M':
        return pad(d.minute);
      case 'S':
        return pad(d.second);
      case 'f':
        return pad(d.microsecond, 6);
      case 'p':
        return d.hour < 12 ? 'AM' : 'PM';
      case 'a':
        return DAYS[d.weekday()]!.slice(0, 3);
      case 'A':
        return DAYS[d.weekday()]!;
      case 'w':
        return String((d.weekday() + 1) % 7);
      case 'u':
        return String(d.weekday() + 1);
      case 'b':
      case 'h':
        return MONTHS[d.month - 1]!.slice(0, 3);
      case 'B':
        return MONTHS[d.month - 1]!;
      case 'j':
        return pad(dayOfYear(d), 3);
      case 'F':
        return d.date();
      case 'T':
        return `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
      case 'D':
        return `${pad(d.month)}/${pad(d.day)}/${pad(d.year % 100)}`;
      case 'R':
        return `${pad(d.hour)}:${pad(d.minute)}`;
      case 's':
        return String(Math.floor(d.micros() / 1e6));
      case 'Z':
        return 'UTC';
      case 'z':
        return '+0000';
      case 'c':
        return `${DAYS[d.weekday()]!.slice(0, 3)} ${MONTHS[d.month - 1]!.slice(0, 3)} ${String(d.day).padStart(2, ' ')} ${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)} ${d.year}`;
      case 'x':
        return `${pad(d.month)}/${pad(d.day)}/${pad(d.year % 100)}`;
      case 'X':
        return `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
      case '%':
        return '%';
      default:
        return m;
    }
  });
}

const PARSE: Record<string, { re: string; set: (f: Fields, v: string) => void }> = {
  Y: { re: '(\\d{4})', set: (f, v) => (f.year = Number(v)) },
  y: { re: '(\\d{2})', set: (f, v) => (f.year = Number(v) + (Number(v) < 69 ? 2000 : 1900)) },
  m: { re: '(\\d{1,2})', set: (f, v) => (f.month = Number(v)) },
  d: { re: '(\\d{1,2})', set: (f, v) => (f.day = Number(v)) },
  H: { re: '(\\d{1,2})', set: (f, v) => (f.hour = Number(v)) },
  I: { re: '(\\d{1,2})', set: (f, v) => (f.hour12 = Number(v)) },
  M: { re: '(\\d{1,2})', set: (f, v) => (f.minute = Number(v)) },
  S: { re: '(\\d{1,2})', set: (f, v) => (f.second = Number(v)) },
  f: { re: '(\\d{1,6})', set: (f, v) => (f.microsecond = Number(v.padEnd(6, '0'))) },
  p: { re: '(AM|PM|am|pm)', set: (f, v) => (f.pm = v.toUpperCase() === 'PM') },
  b: { re: '([A-Za-z]{3})', set: (f, v) => (f.month = MONTHS.findIndex((x) => x.slice(0, 3).toLowerCase() === v.toLowerCase()) + 1) },
  B: { re: '([A-Za-z]+)', set: (f, v) => (f.month = MONTHS.findIndex((x) => x.toLowerCase() === v.toLowerCase()) + 1) },
  a: { re: '([A-Za-z]{3})', set: () => undefined },
  A: { re: '([A-Za-z]+)', set: () => undefined },
  j: { re: '(\\d{1,3})', set: (f, v) => (f.yday = Number(v)) },
  z: { re: '([+-]\\d{4}|Z)', set: () => undefined },
  Z: { re: '([A-Za-z]+)', set: () => undefined },
};

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  hour12?: number;
  pm?: boolean;
  yday?: number;
}

/** datetime.strptime: the whole string must match the format, else Python's ValueError text. */
export function strptime(text: string, fmt: string): PyDateTime {
  const setters: Array<(f: Fields, v: string) => void> = [];
  let re = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '%' && i + 1 < fmt.length) {
      const d = fmt[++i]!;
      if (d === '%') re += '%';
      else {
        const p = PARSE[d];
        if (!p) throw new PyTypeError(`ValueError: '${d}' is a bad directive in format '${fmt}'`);
        re += p.re;
        setters.push(p.set);
      }
    } else if (/\s/.test(c)) re += '\\s+';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${re}$`).exec(text);
  if (!m) throw new PyTypeError(`ValueError: time data '${text}' does not match format '${fmt}'`);
  const f: Fields = { year: 1900, month: 1, day: 1, hour: 0, minute: 0, second: 0, microsecond: 0 };
  setters.forEach((s, i) => s(f, m[i + 1]!));
  if (f.hour12 !== undefined) f.hour = (f.hour12 % 12) + (f.pm ? 12 : 0);
  if (f.yday !== undefined) {
    const d = new Date(Date.UTC(f.year, 0, f.yday));
    f.month = d.getUTCMonth() + 1;
    f.day = d.getUTCDate();
  }
  const check = new Date(Date.UTC(f.year, f.month - 1, f.day));
  if (f.month < 1 || f.month > 12 || check.getUTCDate() !== f.day || f.hour > 23 || f.minute > 59 || f.second > 61) {
    throw new PyTypeError(`ValueError: time data '${text}' does not match format '${fmt}'`);
  }
  return new PyDateTime(f.year, f.month, f.day, f.hour, f.minute, f.second, f.microsecond);
}

/** time.localtime() of an epoch second (the controller's zone), or now. */
export function localTime(second?: number | null, utc = false): PyDateTime {
  const ms = second === undefined || second === null ? Date.now() : second * 1000;
  const d = new Date(ms);
  if (utc) return new PyDateTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  return new PyDateTime(d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds());
}
