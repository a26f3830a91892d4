// What the API sends (see api/schemas.py and poller/writer.py's live_event).

export type Metrics = Record<string, number>;

export interface Host {
  name: string;
  address: string | null;
  groups: string[];
  tags: string[];
  mac: string | null;
  local: boolean;
  in_inventory: boolean;
  state: string;
  error: string | null;
  ts: number | null;
  duration_ms: number | null;
  metrics: Metrics;
  metrics_ts: number | null;
  info: Record<string, unknown> | null;
}

export interface HostDetail extends Host {
  series: string[];
}

export interface LiveEvent {
  type: "host" | "ping" | string;
  host: string;
  state?: string;
  error?: string | null;
  ts?: number;
  duration_ms?: number | null;
  metrics?: Metrics;
  info?: Record<string, unknown> | null;
  stored?: number | null; // unix seconds when EGO committed it (poller/writer.py)
  received?: number; // set by live.ts: Date.now()/1000 when the message arrived
}

export interface Series {
  host: string;
  metric: string;
  from: number;
  to: number;
  points: [number, number][];
}

/** GET /api/overview (api/overview.py): fields at their default are left out. */
export interface OverviewHost {
  name: string;
  kind?: string;
  address?: string | null;
  groups?: string[];
  tags?: string[];
  state: string;
  error?: string | null;
  ts?: number | null;
  metrics?: Metrics; // only the series the fleet columns summarise
  ping_ms?: number | null;
  ping_loss_pct?: number | null;
  spark?: Record<string, (number | null)[]>; // 1-minute averages from spark_from
}

/** GET /api/targets (api/overview.py): what the Run page's pickers list. */
export interface Target {
  name: string;
  kind?: string; // "host" (default) or "snmp"
  groups?: string[];
  tags?: string[];
  state: string;
}

export interface Overview {
  ts: number;
  spark_from: number;
  spark_step_s: number;
  hosts: OverviewHost[];
}

export interface Me {
  user: string;
  role: string;
  via: string;
  csrf: string | null;
}
