// Pure formatting: numbers with units, durations, ages. No DOM here (tested with Vitest).

export function pct(value: number | null | undefined, digits = 1): string {
  return value == null || !Number.isFinite(value) ? "–" : `${value.toFixed(digits)}%`;
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** Decimal units (1 kB = 1000 B), as network and disk rates are usually quoted. */
export function bytes(value: number | null | undefined, suffix = ""): string {
  if (value == null || !Number.isFinite(value)) return "–";
  let v = Math.abs(value);
  let unit = 0;
  while (v >= 1000 && unit < BYTE_UNITS.length - 1) {
    v /= 1000;
    unit += 1;
  }
  const digits = v >= 100 || unit === 0 ? 0 : 1;
  return `${value < 0 ? "-" : ""}${v.toFixed(digits)} ${BYTE_UNITS[unit]}${suffix}`;
}

export function rate(value: number | null | undefined): string {
  return bytes(value, "/s");
}

export function num(value: number | null | undefined, digits = 2): string {
  return value == null || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

export function celsius(value: number | null | undefined): string {
  return value == null || !Number.isFinite(value) ? "–" : `${value.toFixed(0)}°C`;
}

export function ms(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return "–";
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
}

/** 93784 → "1d 2h", 3720 → "1h 2m", 59 → "59s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** How long ago ``ts`` (unix seconds) was, relative to ``now``. */
export function ago(ts: number | null | undefined, now: number): string {
  if (ts == null) return "–";
  return duration(Math.max(0, now - ts));
}

/** The CSS class of a host state: ok, warn, bad or idle. */
export function stateClass(state: string): "ok" | "warn" | "bad" | "idle" {
  if (state === "up") return "ok";
  if (state === "pending") return "idle";
  if (state === "timeout" || state === "hostkey-unknown") return "warn";
  return "bad";
}

/** Severity of a percentage for colouring a cell. */
export function level(value: number | null | undefined, warn = 75, bad = 90): "" | "warn" | "bad" {
  if (value == null || !Number.isFinite(value)) return "";
  if (value >= bad) return "bad";
  if (value >= warn) return "warn";
  return "";
}
