// Numbers and times the way the console shows them everywhere: adaptive durations
// (`850 ms`, `4.2 s`, `3 min 10 s`), IEC bytes (`12.4 MiB`), counts with thousands
// separators, relative times with the absolute UTC time in `title`.

const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `1,204` (exact, never rounded to "about"). */
export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return COUNT.format(n);
}

/** A duration in ms: `0 ms`, `850 ms`, `4.2 s`, `42 s`, `3 min 10 s`, `2 h 5 min`, `3 d 4 h`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let out: string;
  if (a < 1000) out = `${Math.round(a)} ms`;
  else if (a < 10_000) {
    const s = Math.round(a / 100) / 10;
    out = s >= 10 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`;
  } else if (a < 60_000) out = `${Math.round(a / 1000)} s`;
  else if (a < 3_600_000) {
    const total = Math.round(a / 1000);
    const m = Math.floor(total / 60);
    const s = total % 60;
    out = s ? `${m} min ${s} s` : `${m} min`;
  } else if (a < 86_400_000) {
    const total = Math.round(a / 60_000);
    const h = Math.floor(total / 60);
    const m = total % 60;
    out = m ? `${h} h ${m} min` : `${h} h`;
  } else {
    const total = Math.round(a / 3_600_000);
    const d = Math.floor(total / 24);
    const h = total % 24;
    out = h ? `${d} d ${h} h` : `${d} d`;
  }
  return neg ? `−${out}` : out;
}

/** A lag in seconds (chart axis units), formatted like `duration`. */
export function seconds(s: number | null | undefined): string {
  return s === null || s === undefined ? '—' : duration(s * 1000);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in IEC units: `0 B`, `512 B`, `12.4 MiB`, `124 MiB`. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const neg = n < 0;
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 ? `${Math.round(v)} B` : `${v < 100 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
  return neg ? `−${text}` : text;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `2026-11-22 09:14:03 UTC`. */
export function utc(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
  );
}

/** `09:14:03` (UTC), for chart cursors. */
export function utcClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `3 min ago`, `just now`, `in 5 s`, relative to `now`. */
export function relative(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = now - ms;
  const a = Math.abs(d);
  if (a < 1500) return 'just now';
  let text: string;
  if (a < 60_000) text = `${Math.round(a / 1000)} s`;
  else if (a < 3_600_000) text = `${Math.floor(a / 60_000)} min`;
  else if (a < 86_400_000) text = `${Math.floor(a / 3_600_000)} h`;
  else text = `${Math.floor(a / 86_400_000)} d`;
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** Milliseconds since the epoch of an RFC 3339 string (`null` when it does not parse). */
export function parseTime(s: string | null | undefined): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** `s` cut to `max` characters with an ellipsis. */
export function truncate(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** `1 row`, `2 rows`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}
