// Pure formatting: numbers with units, durations, ages. No DOM here (tested with Vitest).

export function pct(value: number | null | undefined, digits = 1): string {
  return value == null || !Number.isFinite(value) ? "–" : `${value.toFixed(digits)}%`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const BIT_UNITS = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];

function scaled(value: number, base: number, units: string[], suffix = ""): string {
  let v = Math.abs(value);
  let unit = 0;
  while (v >= base && unit < units.length - 1) {
    v /= base;
    unit += 1;
  }
  const digits = v >= 100 || unit === 0 ? 0 : 1;
  return `${value < 0 ? "-" : ""}${v.toFixed(digits)} ${units[unit]}${suffix}`;
}

/** Sizes and disk rates in IEC binary units (1 KiB = 1024 B): "1.5 KiB", "118 MiB". The CLI's
 *  human_bytes (cli/render.py) prints the same text for a value (tests/fixtures/units/). */
export function bytes(value: number | null | undefined, suffix = ""): string {
  if (value == null || !Number.isFinite(value)) return "–";
  return scaled(value, 1024, BYTE_UNITS, suffix);
}

/** A disk rate: bytes per second in IEC units ("1.5 MiB/s"). */
export function rate(value: number | null | undefined): string {
  return bytes(value, "/s");
}

/** A network rate, given in bytes per second, as links are quoted: decimal bits per second
 *  ("12.0 kbit/s", "10.0 Mbit/s"), as the CLI's human_bits_rate. */
export function bitRate(bytesPerS: number | null | undefined): string {
  if (bytesPerS == null || !Number.isFinite(bytesPerS)) return "–";
  return scaled(bytesPerS * 8, 1000, BIT_UNITS);
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

/**
 * A moment (unix seconds) for people, in the UI's language, 24-hour: ISO-like in English
 * ("2026-12-05 16:20:11"), Korean order in Korean ("2026. 12. 5. 16:20:11"). Local time zone
 * unless ``timeZone`` is given (tests).
 */
export function dateTime(ts: number | null | undefined, lang: "en" | "ko" = "en", timeZone?: string): string {
  if (ts == null || !Number.isFinite(ts)) return "–";
  const date = new Date(ts * 1000);
  const options: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone,
  };
  if (lang === "ko") return new Intl.DateTimeFormat("ko-KR", { ...options, month: "numeric", day: "numeric" }).format(date);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", options).formatToParts(date).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** A chart's time-axis label: "16:55" (or "16:55:10" for steps under a minute), a date for
 *  steps of a day or more ("12-05"; "12. 5." in Korean). 24-hour in both languages. */
export function axisTime(ts: number, stepS: number, lang: "en" | "ko" = "en", timeZone?: string): string {
  const date = new Date(ts * 1000);
  const locale = lang === "ko" ? "ko-KR" : "en-US";
  const options: Intl.DateTimeFormatOptions =
    stepS >= 86400
      ? { month: lang === "ko" ? "numeric" : "2-digit", day: lang === "ko" ? "numeric" : "2-digit", timeZone }
      : { hour: "2-digit", minute: "2-digit", ...(stepS < 60 ? { second: "2-digit" } : {}), hourCycle: "h23", timeZone };
  if (stepS >= 86400 && lang === "en") {
    const parts = Object.fromEntries(new Intl.DateTimeFormat(locale, options).formatToParts(date).map((p) => [p.type, p.value]));
    return `${parts.month}-${parts.day}`;
  }
  return new Intl.DateTimeFormat(locale, options).format(date);
}
