// Scheduled jobs (issue 18): what /api/jobs and /api/job-runs answer, and the pure folding of
// a run's stream into per-host output (tested with Vitest; no DOM here).

export interface TargetResult {
  state: string; // ok | failed | error | timeout | cancelled
  exit_status: number | null;
  exit_signal: string | null;
  duration_ms: number;
  ts_ms: number;
  error: string | null;
  run_id: string;
}

export interface JobRun {
  run_id: string;
  job: string;
  trigger: string; // schedule | manual
  requested_by: string;
  via: string;
  scheduled: number | null;
  started: number | null;
  ended: number | null;
  duration_s: number | null;
  state: string; // running | ok | failed | stopped | missed | interrupted
  hosts: string[];
  note: string | null;
}

export interface JobInfo {
  name: string;
  description: string;
  command: string | null;
  action: string | null;
  params: Record<string, string | number>;
  targets: string[];
  schedule: string;
  next_run: number | null;
  paused: boolean;
  enabled: boolean;
  owner: string | null;
  running: string | null; // the run id going now
  last_run: JobRun | null;
  last_results: Record<string, TargetResult>;
}

export interface RunMessage {
  type: string; // output | result | done | error | ended
  host?: string;
  stream?: "stdout" | "stderr";
  text?: string;
  state?: string;
  exit_status?: number | null;
  exit_signal?: string | null;
  duration_s?: number;
  error?: string | null;
  attempt?: number;
  reason?: string;
}

export interface HostLive {
  host: string;
  text: string; // stdout and stderr as they came, capped
  state: string | null; // null while running
  summary: string;
}

export interface LiveRun {
  runId: string;
  job: string;
  hosts: HostLive[];
  state: string | null; // the run's, once done
  error: string | null;
}

export const KEEP_CHARS = 200_000; // per host in the page; the server keeps the full capped output

export function startLive(runId: string, job: string, hosts: string[] = []): LiveRun {
  return { runId, job, hosts: hosts.map((host) => ({ host, text: "", state: null, summary: "" })), state: null, error: null };
}

/** One line per target result: "exit 0 in 0.12 s", "error: connection refused (attempt 2)". */
export function resultSummary(m: RunMessage): string {
  const attempt = m.attempt && m.attempt > 1 ? ` (attempt ${m.attempt})` : "";
  if (m.state === "error" || m.state === "cancelled" || m.state === "timeout") return `${m.state}: ${m.error ?? ""}${attempt}`;
  const how = m.exit_signal ? `signal ${m.exit_signal}` : `exit ${m.exit_status}`;
  return `${how} in ${(m.duration_s ?? 0).toFixed(2)} s${attempt}`;
}

/** The run after ``messages`` (a new object; hosts appear in the order they first speak). */
export function foldRun(run: LiveRun, messages: RunMessage[]): LiveRun {
  const hosts = run.hosts.map((h) => ({ ...h }));
  const find = (name: string): HostLive => {
    let found = hosts.find((h) => h.host === name);
    if (!found) {
      found = { host: name, text: "", state: null, summary: "" };
      hosts.push(found);
    }
    return found;
  };
  let { state, error } = run;
  for (const m of messages) {
    if (m.type === "output" && m.host && m.text) {
      const h = find(m.host);
      if (h.text.length < KEEP_CHARS) h.text += m.text.slice(0, KEEP_CHARS - h.text.length);
    } else if (m.type === "result" && m.host) {
      const h = find(m.host);
      h.state = m.state ?? null;
      h.summary = resultSummary(m);
    } else if (m.type === "done") {
      state = m.state ?? "?";
    } else if (m.type === "error" || m.type === "ended") {
      error = m.error ?? m.reason ?? "?";
    }
  }
  return { ...run, hosts, state, error };
}

/** "in 3h 2m", "paused", "by hand", "–" (the words from i18n). */
export function nextRunText(
  job: Pick<JobInfo, "next_run" | "paused" | "schedule">,
  now: number,
  words: { paused: string; byHand: string; in: (d: string) => string },
  duration: (s: number) => string,
): string {
  if (job.paused) return words.paused;
  if (job.next_run == null) return job.schedule === "by hand" ? words.byHand : "–";
  return words.in(duration(Math.max(0, job.next_run - now)));
}

/** The badge class of a run or target state. */
export function stateBadge(state: string | null | undefined): "ok" | "bad" | "warn" | "idle" {
  if (state === "ok") return "ok";
  if (state === "failed" || state === "error" || state === "interrupted") return "bad";
  if (state === "timeout" || state === "cancelled" || state === "stopped" || state === "missed") return "warn";
  return "idle";
}
