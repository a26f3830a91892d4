// Alerts in the browser: the API's shapes and the pure parts of the page, badge and desktop
// notifications (tested in alerts.test.ts).

export interface Alert {
  id: number;
  rule: string;
  target: string;
  instance: string | null;
  severity: "info" | "warning" | "critical";
  status: "pending" | "firing" | "resolved";
  summary: string;
  value: number | null;
  since: number;
  fired_at: number | null;
  resolved_at: number | null;
  ack_by: string | null;
  ack_at: number | null;
  ack_comment: string | null;
  silenced_by: number | null;
}

export interface Summary {
  firing: number;
  pending: number;
  critical: number;
  warning: number;
  info: number;
}

export interface SilenceRow {
  id: number;
  matchers: Record<string, string>;
  starts: number;
  ends: number;
  created_by: string;
  comment: string;
  active: boolean;
}

export interface RuleRow {
  name: string;
  origin: "default" | "override" | "file";
  rule: Record<string, unknown>;
}

export interface ChannelStatus {
  state: string;
  last_error: string | null;
  last_ok: number | null;
  sent: number;
  queued: number;
}

/** The header badge: firing count and the worst severity firing (null: nothing firing). */
export function badge(summary: Summary | null): { text: string; level: "bad" | "warn" | "idle" } | null {
  if (!summary || summary.firing <= 0) return null;
  const level = summary.critical > 0 ? "bad" : summary.warning > 0 ? "warn" : "idle";
  return { text: String(summary.firing), level };
}

export function where(a: Pick<Alert, "target" | "instance">): string {
  return a.instance ? `${a.target} ${a.instance}` : a.target;
}

/** Firing alerts not yet announced on this page (desktop notifications), and the ids to
 * remember next time. Acknowledged and silenced ones are not announced. */
export function newlyFiring(seen: ReadonlySet<number>, alerts: readonly Alert[]): { fresh: Alert[]; seen: Set<number> } {
  const firing = alerts.filter((a) => a.status === "firing" && !a.ack_by && a.silenced_by === null);
  return { fresh: firing.filter((a) => !seen.has(a.id)), seen: new Set(firing.map((a) => a.id)) };
}

/** "host=nas, alertname=fs-*" → {host: "nas", alertname: "fs-*"}; null when a part lacks "=". */
export function parseMatchers(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf("=");
    if (at <= 0 || at === part.length - 1) return null;
    out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return Object.keys(out).length ? out : null;
}

export function severityClass(severity: string): "bad" | "warn" | "idle" {
  return severity === "critical" ? "bad" : severity === "warning" ? "warn" : "idle";
}
