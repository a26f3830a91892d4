// What the API sends (see api/schemas.py); the live events are generated (live-events.ts).

import type { HostPoll, PingPoll } from "./live-events";

export type { HostPoll, LiveMessage, PingPoll, StateChange } from "./live-events";

export type Metrics = Record<string, number>;

export interface Host {
  name: string;
  kind?: string; // "host" (SSH or local) or "snmp"
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
  ping?: Record<string, unknown> | null; // the address's latest ICMP result; null: never pinged
}

export interface HostDetail extends Host {
  series: string[];
}

/** A poll event as the UI applies it (live-events.ts, generated from mirror/events.py):
 * what it does not carry keeps the row's value. */
export type LiveEvent = Pick<HostPoll | PingPoll, "type" | "host"> &
  Partial<Omit<HostPoll, "type" | "host">> & {
    received?: number; // set by live.ts: Date.now()/1000 when the message arrived
  };

/** A message of /api/live that is a poll (the fleet and host pages apply these). */
export function isPoll(message: { type?: unknown }): message is HostPoll | PingPoll {
  return message.type === "host" || message.type === "ping";
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
