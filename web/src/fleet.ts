// The fleet table's model: one row per host, built from GET /api/overview (or /api/hosts) and
// kept current by live events. Pure functions (no DOM); a changed row is a new object so views
// can memoise.

import type { Host, LiveEvent, Metrics, OverviewHost } from "./types";

export const SPARK_WINDOW_S = 3600;
export const SPARK_MAX_POINTS = 240; // 1-minute buckets from the API plus live points, capped

export type Spark = [number, number][];

export interface Summary {
  cpu: number | null;
  mem: number | null;
  load1: number | null;
  disk: number | null;
  diskMount: string | null;
  rx: number | null;
  tx: number | null;
  temp: number | null;
  gpu: number | null;
}

export interface Row extends Summary {
  name: string;
  address: string | null;
  groups: string[];
  tags: string[];
  state: string;
  error: string | null;
  ts: number | null;
  pingMs: number | null;
  pingLoss: number | null;
  sparkCpu: Spark;
  sparkMem: Spark;
  sparkRx: Spark;
}

function instance(name: string, metric: string): string | null {
  const prefix = `${metric}[`;
  return name.startsWith(prefix) && name.endsWith("]") ? name.slice(prefix.length, -1) : null;
}

/**
 * The fleet columns from one snapshot's metrics. The series read here are the ones
 * GET /api/overview sends (FLEET_SERIES and FLEET_FAMILIES in api/overview.py): keep in step.
 */
export function summarize(metrics: Metrics): Summary {
  let disk: number | null = null;
  let diskMount: string | null = null;
  let rx: number | null = null;
  let tx: number | null = null;
  let temp: number | null = null;
  let gpu: number | null = null;
  for (const [name, value] of Object.entries(metrics)) {
    if (value == null || !Number.isFinite(value)) continue;
    const mount = instance(name, "fs.used_pct");
    if (mount !== null && (disk === null || value > disk)) {
      disk = value;
      diskMount = mount;
      continue;
    }
    const rxIf = instance(name, "net.rx_bytes_per_s");
    if (rxIf !== null && rxIf !== "lo") {
      rx = (rx ?? 0) + value;
      continue;
    }
    const txIf = instance(name, "net.tx_bytes_per_s");
    if (txIf !== null && txIf !== "lo") {
      tx = (tx ?? 0) + value;
      continue;
    }
    if (instance(name, "temp.celsius") !== null) {
      temp = temp === null ? value : Math.max(temp, value);
      continue;
    }
    if (instance(name, "gpu.util_pct") !== null) gpu = gpu === null ? value : Math.max(gpu, value);
  }
  return {
    cpu: metrics["cpu.busy_pct"] ?? null,
    mem: metrics["mem.used_pct"] ?? null,
    load1: metrics["load.1"] ?? null,
    disk,
    diskMount,
    rx,
    tx,
    temp,
    gpu,
  };
}

export function rowFromHost(host: Host): Row {
  const metrics = host.metrics ?? {};
  return {
    name: host.name,
    address: host.address,
    groups: host.groups,
    tags: host.tags,
    state: host.state,
    error: host.error,
    ts: host.ts,
    pingMs: null,
    pingLoss: null,
    ...summarize(metrics),
    sparkCpu: [],
    sparkMem: [],
    sparkRx: [],
  };
}

/** A row from GET /api/overview: its sparklines are dense lists from ``from``, ``step`` apart. */
export function rowFromOverview(host: OverviewHost, from: number, step: number): Row {
  const spark = (values: (number | null)[] | undefined): Spark => {
    const out: Spark = [];
    values?.forEach((v, i) => {
      if (v != null) out.push([from + i * step, v]);
    });
    return out;
  };
  return {
    name: host.name,
    address: host.address ?? null,
    groups: host.groups ?? [],
    tags: host.tags ?? [],
    state: host.state,
    error: host.error ?? null,
    ts: host.ts ?? null,
    pingMs: host.ping_ms ?? null,
    pingLoss: host.ping_loss_pct ?? null,
    ...summarize(host.metrics ?? {}),
    sparkCpu: spark(host.spark?.["cpu.busy_pct"]),
    sparkMem: spark(host.spark?.["mem.used_pct"]),
    sparkRx: [],
  };
}

/**
 * An SVG path of ``points`` in a ``width`` × ``height`` box (1 px margin), the time axis from
 * the first point to the last; values above ``max`` are drawn at the top. "" under 2 points.
 */
export function sparkPath(points: Spark, width: number, height: number, max?: number): string {
  if (points.length < 2) return "";
  const t0 = points[0][0];
  const span = points[points.length - 1][0] - t0 || 1;
  let top = max ?? 1e-9;
  if (max === undefined) for (const p of points) if (p[1] > top) top = p[1];
  const xScale = (width - 2) / span;
  const yScale = (height - 2) / top;
  let d = "";
  for (let i = 0; i < points.length; i++) {
    const [t, v] = points[i];
    const x = (t - t0) * xScale + 1;
    const y = height - 1 - Math.max(0, Math.min(v, top)) * yScale;
    d += `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
  }
  return d;
}

/** ``spark`` plus one point, keeping only the last window (points arrive in time order). */
export function appendPoint(spark: Spark, ts: number, value: number | null): Spark {
  if (value == null || !Number.isFinite(value)) return spark;
  const last = spark[spark.length - 1];
  if (last && ts <= last[0]) return spark;
  const cutoff = ts - SPARK_WINDOW_S;
  let start = 0;
  while (start < spark.length && spark[start][0] < cutoff) start++;
  const out = spark.slice(Math.max(start, spark.length + 1 - SPARK_MAX_POINTS));
  out.push([ts, value]);
  return out;
}

/**
 * The row an event changes, as a new object; null when it concerns no row.
 * ``byAddress`` maps an address to its row name, for ``ping/ADDRESS`` events.
 */
export function applyEvent(
  rows: ReadonlyMap<string, Row>,
  event: LiveEvent,
  byAddress: ReadonlyMap<string, string>,
): Row | null {
  if (event.type === "ping" || event.host.startsWith("ping/")) {
    const name = byAddress.get(event.host.slice("ping/".length));
    const row = name === undefined ? undefined : rows.get(name);
    if (!row) return null;
    const m = event.metrics ?? {};
    const up = m["ping.up"];
    return {
      ...row,
      pingMs: up === 0 ? null : (m["ping.rtt_avg_ms"] ?? row.pingMs),
      pingLoss: m["ping.loss_pct"] ?? row.pingLoss,
    };
  }
  const row = rows.get(event.host);
  if (!row) return null;
  const next: Row = {
    ...row,
    state: event.state ?? row.state,
    error: event.error === undefined ? row.error : event.error,
    ts: event.ts ?? row.ts,
  };
  const metrics = event.metrics ?? {};
  if (Object.keys(metrics).length > 0) {
    Object.assign(next, summarize(metrics));
    const ts = event.ts ?? Date.now() / 1000;
    next.sparkCpu = appendPoint(row.sparkCpu, ts, next.cpu);
    next.sparkMem = appendPoint(row.sparkMem, ts, next.mem);
    next.sparkRx = appendPoint(row.sparkRx, ts, next.rx);
  }
  return next;
}

export interface Filter {
  query: string;
  group: string;
  state: string;
  tag: string;
}

export const NO_FILTER: Filter = { query: "", group: "", state: "", tag: "" };

export function matches(row: Row, filter: Filter): boolean {
  if (filter.group && !row.groups.includes(filter.group)) return false;
  if (filter.tag && !row.tags.includes(filter.tag)) return false;
  if (filter.state) {
    if (filter.state === "down" ? row.state === "up" || row.state === "pending" : row.state !== filter.state)
      return false;
  }
  const q = filter.query.trim().toLowerCase();
  if (q && !row.name.toLowerCase().includes(q) && !(row.address ?? "").includes(q)) return false;
  return true;
}

export type SortKey =
  | "name"
  | "state"
  | "cpu"
  | "mem"
  | "load1"
  | "disk"
  | "rx"
  | "tx"
  | "temp"
  | "gpu"
  | "pingMs";

const STATE_ORDER: Record<string, number> = { up: 3, pending: 2 };
// One collator for every comparison: localeCompare with options builds one per call, and a
// sort of 254 rows makes ~2000 calls on every live update.
const byName = new Intl.Collator(undefined, { numeric: true });

/** Compare IPv4 dotted quads numerically, else as text. */
function addressKey(address: string | null): string {
  if (!address) return "";
  const parts = address.split(".");
  if (parts.length === 4 && parts.every((p) => /^\d+$/.test(p)))
    return parts.map((p) => p.padStart(3, "0")).join(".");
  return address;
}

export function compareRows(a: Row, b: Row, key: SortKey, descending: boolean): number {
  let result: number;
  if (key === "name") {
    result = byName.compare(a.name, b.name);
  } else if (key === "state") {
    // Down hosts first when ascending: they are what the owner looks for.
    result = (STATE_ORDER[a.state] ?? 0) - (STATE_ORDER[b.state] ?? 0) || a.state.localeCompare(b.state);
  } else {
    const x = a[key];
    const y = b[key];
    // Missing values always sort last, whatever the direction.
    if (x == null && y == null) result = 0;
    else if (x == null) return 1;
    else if (y == null) return -1;
    else result = x - y;
  }
  if (result === 0) result = addressKey(a.address).localeCompare(addressKey(b.address)) || a.name.localeCompare(b.name);
  return descending ? -result : result;
}

export interface Group {
  name: string;
  rows: Row[];
}

/**
 * Rows grouped by their first inventory group, groups in ``order`` (then any others by name),
 * each group sorted. A host in several groups is listed under its first one.
 */
export function groupRows(
  rows: Iterable<Row>,
  filter: Filter,
  key: SortKey,
  descending: boolean,
  order: readonly string[] = [],
): Group[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    if (!matches(row, filter)) continue;
    const group = filter.group || row.groups[0] || "";
    const list = groups.get(group);
    if (list) list.push(row);
    else groups.set(group, [row]);
  }
  const rank = (name: string) => {
    const i = order.indexOf(name);
    return i === -1 ? order.length : i;
  };
  return [...groups.entries()]
    .sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : rank(a) - rank(b) || a.localeCompare(b)))
    .map(([name, list]) => ({
      name,
      rows: list.sort((a, b) => compareRows(a, b, key, descending)),
    }));
}

export function counts(rows: Iterable<Row>): { up: number; down: number; pending: number } {
  const out = { up: 0, down: 0, pending: 0 };
  for (const row of rows) {
    if (row.state === "up") out.up++;
    else if (row.state === "pending") out.pending++;
    else out.down++;
  }
  return out;
}
