// The host page's charts: which series go in which family chart, the range presets, and
// the alignment of several series into one uPlot data table. Pure functions.

export type Unit = "pct" | "rate" | "bits" | "celsius" | "plain" | "watts" | "ms";

export interface Family {
  key: string;
  title:
    | "cpuPerCore"
    | "memoryFamily"
    | "loadFamily"
    | "disks"
    | "diskIo"
    | "networkFamily"
    | "temperatures"
    | "gpus"
    | "other";
  unit: Unit;
  series: string[];
}

interface Rule {
  key: string;
  title: Family["title"];
  unit: Unit;
  test: (name: string) => boolean;
}

const starts = (...prefixes: string[]) => (name: string) => prefixes.some((p) => name.startsWith(p));

const RULES: Rule[] = [
  { key: "cpu", title: "cpuPerCore", unit: "pct", test: (n) => n === "cpu.busy_pct" || n.startsWith("cpu.busy_pct[") },
  { key: "mem", title: "memoryFamily", unit: "pct", test: (n) => n === "mem.used_pct" || n === "swap.used_pct" },
  { key: "load", title: "loadFamily", unit: "plain", test: (n) => /^load\.\d+$/.test(n) },
  { key: "fs", title: "disks", unit: "pct", test: starts("fs.used_pct[") },
  { key: "diskio", title: "diskIo", unit: "rate", test: starts("disk.read_bytes_per_s[", "disk.write_bytes_per_s[") },
  {
    key: "net",
    title: "networkFamily",
    unit: "bits",
    test: (n) => (n.startsWith("net.rx_bytes_per_s[") || n.startsWith("net.tx_bytes_per_s[")) && !n.endsWith("[lo]"),
  },
  { key: "temp", title: "temperatures", unit: "celsius", test: starts("temp.celsius[", "gpu.temp_celsius[") },
  { key: "gpu", title: "gpus", unit: "pct", test: starts("gpu.util_pct[") },
];

/** Numeric-aware order: cpu.busy_pct[2] before cpu.busy_pct[10]; the total first. */
function seriesOrder(a: string, b: string): number {
  const aTotal = !a.includes("[");
  const bTotal = !b.includes("[");
  if (aTotal !== bTotal) return aTotal ? -1 : 1;
  return a.localeCompare(b, undefined, { numeric: true });
}

export function families(names: readonly string[]): Family[] {
  const out: Family[] = RULES.map((r) => ({ key: r.key, title: r.title, unit: r.unit, series: [] }));
  for (const name of names) {
    const i = RULES.findIndex((r) => r.test(name));
    if (i !== -1) out[i].series.push(name);
  }
  for (const family of out) family.series.sort(seriesOrder);
  return out.filter((f) => f.series.length > 0);
}

/** A short legend label: "cpu.busy_pct[3]" → "3", "net.rx_bytes_per_s[eth0]" → "eth0 rx". */
export function label(name: string): string {
  const start = name.indexOf("[");
  if (start === -1 || !name.endsWith("]")) {
    if (name === "cpu.busy_pct") return "total";
    return name.replace(/_pct$/, "").replace(/^load\./, "load ");
  }
  const metric = name.slice(0, start);
  const inst = name.slice(start + 1, -1);
  if (metric.startsWith("net.rx")) return `${inst} rx`;
  if (metric.startsWith("net.tx")) return `${inst} tx`;
  if (metric.startsWith("disk.read")) return `${inst} read`;
  if (metric.startsWith("disk.write")) return `${inst} write`;
  if (metric.startsWith("gpu.temp")) return `GPU ${inst}`;
  if (metric.startsWith("gpu.")) return `GPU ${inst}`;
  if (metric === "cpu.busy_pct") return `cpu${inst}`;
  return inst;
}

export interface Range {
  key: string;
  seconds: number;
}

export const RANGES: Range[] = [
  { key: "15m", seconds: 15 * 60 },
  { key: "1h", seconds: 3600 },
  { key: "6h", seconds: 6 * 3600 },
  { key: "24h", seconds: 24 * 3600 },
  { key: "7d", seconds: 7 * 86400 },
  { key: "30d", seconds: 30 * 86400 },
];

/** The series API's ``from`` for a preset: "-15m", "-7d" (relative to the server's now). */
export function rangeFrom(range: Range): string {
  return `-${range.key}`;
}

/**
 * Several ``[ts, value]`` lists as uPlot's aligned table: ``[xs, ys1, ys2, …]`` over the union
 * of timestamps, null where a series has no point at that time.
 */
export function align(lists: readonly (readonly [number, number][])[]): (number | null)[][] {
  const xsSet = new Set<number>();
  for (const list of lists) for (const [ts] of list) xsSet.add(ts);
  const xs = [...xsSet].sort((a, b) => a - b);
  const index = new Map<number, number>();
  xs.forEach((x, i) => index.set(x, i));
  const out: (number | null)[][] = [xs];
  for (const list of lists) {
    const ys: (number | null)[] = new Array(xs.length).fill(null);
    for (const [ts, value] of list) ys[index.get(ts)!] = Number.isFinite(value) ? value : null;
    out.push(ys);
  }
  return out;
}

/** The shortest window a chart shows: one sample (or a few seconds of them) shows in a minute,
 *  not as a dot on a year-wide axis (uPlot's padding of a lone point). */
export const MIN_WINDOW_S = 60;

/** The x range of a chart: the data it has, within the chosen span, ending at the newest
 *  point, and at least MIN_WINDOW_S wide — a fresh start with four minutes of data fills the
 *  chart instead of sitting at the right edge of an hour. */
export function xRange(dataMin: number, dataMax: number, spanSeconds: number): [number, number] {
  const from = Math.max(dataMin, dataMax - spanSeconds);
  return [Math.min(from, dataMax - Math.min(MIN_WINDOW_S, spanSeconds)), dataMax];
}

/** The newest non-null value of a column (what a legend shows while the cursor is away). */
export function latest(values: readonly (number | null | undefined)[] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v != null && Number.isFinite(v)) return v;
  }
  return null;
}

/** At this many cores the per-core lines are a tangle: the chart keeps the total, and a heat
 *  strip (cores × time) shows the cores. */
export const HEAT_STRIP_CORES = 12;

/** The cores of a CPU family (``cpu.busy_pct[N]``), or none when there are too few for a strip. */
export function perCore(family: Family): string[] {
  const cores = family.series.filter((s) => s.startsWith("cpu.busy_pct["));
  return family.key === "cpu" && cores.length >= HEAT_STRIP_CORES ? cores : [];
}

/** The ``n`` busiest columns by their newest value: ``[label index, value]``, busiest first. */
export function busiest(columns: readonly (number | null)[][], n: number): [number, number][] {
  const now: [number, number][] = [];
  columns.forEach((col, i) => {
    const v = latest(col);
    if (v != null) now.push([i, v]);
  });
  return now.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, n);
}
