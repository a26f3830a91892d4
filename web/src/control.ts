// Pure logic behind the control pages (commands, actions, terminal, audit): what the API
// sends (api/control.py, api/jobs.py) and how the UI folds it into what it shows.

export type ResultState = "ok" | "failed" | "timeout" | "cancelled" | "error";

export interface HostResult {
  host: string;
  state: ResultState;
  exit_status: number | null;
  exit_signal: string | null;
  duration_s: number;
  stdout: string;
  stderr: string;
  stdout_bytes: number;
  stderr_bytes: number;
  truncated: boolean;
  error: string | null;
}

export interface Job {
  id: string;
  command: string;
  hosts: string[];
  actor: string;
  action: string;
  started: number;
  done: boolean;
  cancelled: boolean;
  results: HostResult[] | null;
}

export type StreamMessage =
  | { type: "output"; host: string; stream: "stdout" | "stderr"; text: string; ts: number }
  | ({ type: "done" } & Job)
  | { type: "error"; error: string };

export interface Chunk {
  stream: "stdout" | "stderr";
  text: string;
}

export interface HostRun {
  host: string;
  chunks: Chunk[];
  chars: number;
  /** Characters dropped from the front to keep the page responsive (the tail is kept). */
  dropped: number;
  result: HostResult | null;
}

export interface RunState {
  job: Job;
  hosts: HostRun[];
  done: boolean;
  error: string | null;
}

/** Per host, what the browser keeps of a live run; the stored result keeps head and tail. */
export const KEEP_CHARS_PER_HOST = 200_000;

export function startRun(job: Job): RunState {
  const hosts = job.hosts.map((host) => ({ host, chunks: [], chars: 0, dropped: 0, result: null }));
  return { job, hosts, done: false, error: null };
}

function append(run: HostRun, stream: Chunk["stream"], text: string, keep: number): HostRun {
  const chunks = run.chunks.slice();
  const last = chunks[chunks.length - 1];
  // Consecutive pieces of one stream are one chunk: the list stays short however chatty.
  if (last && last.stream === stream) chunks[chunks.length - 1] = { stream, text: last.text + text };
  else chunks.push({ stream, text });
  let chars = run.chars + text.length;
  let dropped = run.dropped;
  while (chars > keep && chunks.length) {
    const over = chars - keep;
    const first = chunks[0];
    if (first.text.length <= over) {
      chunks.shift();
      chars -= first.text.length;
      dropped += first.text.length;
    } else {
      chunks[0] = { stream: first.stream, text: first.text.slice(over) };
      chars -= over;
      dropped += over;
    }
  }
  return { ...run, chunks, chars, dropped };
}

/** Fold a batch of stream messages into the run (messages for unknown hosts are kept too). */
export function applyMessages(state: RunState, messages: StreamMessage[], keep = KEEP_CHARS_PER_HOST): RunState {
  let hosts = state.hosts;
  let { job, done, error } = state;
  const index = new Map(hosts.map((h, i) => [h.host, i]));
  const slot = (host: string): number => {
    let i = index.get(host);
    if (i === undefined) {
      i = hosts.length;
      hosts = [...hosts, { host, chunks: [], chars: 0, dropped: 0, result: null }];
      index.set(host, i);
    }
    return i;
  };
  for (const message of messages) {
    if (message.type === "output") {
      const i = slot(message.host);
      if (hosts === state.hosts) hosts = hosts.slice();
      hosts[i] = append(hosts[i], message.stream, message.text, keep);
    } else if (message.type === "done") {
      const { type: _, ...finished } = message;
      job = finished;
      done = true;
      for (const result of message.results ?? []) {
        const i = slot(result.host);
        if (hosts === state.hosts) hosts = hosts.slice();
        hosts[i] = { ...hosts[i], result };
      }
    } else if (message.type === "error") {
      error = message.error;
      done = true;
    }
  }
  return { job, hosts, done, error };
}

/** Counts per result state, plus hosts still running. */
export function tally(state: RunState): Record<ResultState | "running", number> {
  const counts = { running: 0, ok: 0, failed: 0, timeout: 0, cancelled: 0, error: 0 };
  for (const h of state.hosts) counts[h.result ? h.result.state : "running"] += 1;
  return counts;
}

/** "exit 0", "signal TERM", the error, or the state: what a host's result badge says. */
export function resultText(result: HostResult): string {
  if (result.state === "error") return result.error ?? "error";
  if (result.state === "timeout" || result.state === "cancelled") return result.state;
  if (result.exit_signal) return `signal ${result.exit_signal}`;
  return `exit ${result.exit_status ?? "?"}`;
}

export function seconds(value: number): string {
  if (value < 10) return `${value.toFixed(2)} s`;
  if (value < 100) return `${value.toFixed(1)} s`;
  return `${Math.round(value)} s`;
}

// ---- what to run on ----

export type TargetMode = "host" | "group" | "picked";

export interface CommandForm {
  mode: TargetMode;
  host: string;
  group: string;
  picked: string[];
  command: string;
  timeoutS: number;
  sudo: boolean;
}

export interface CommandBody {
  command: string;
  hosts: string[];
  groups: string[];
  timeout_s: number;
  sudo: boolean;
}

/** The body of POST /api/commands, or what is missing (a key of the UI's text table). */
export function commandBody(form: CommandForm): CommandBody | { missing: "needCommand" | "needTarget" | "needTimeout" } {
  const command = form.command.trim();
  if (!command) return { missing: "needCommand" };
  if (!(form.timeoutS > 0)) return { missing: "needTimeout" };
  const hosts = form.mode === "host" ? [form.host].filter(Boolean) : form.mode === "picked" ? form.picked : [];
  const groups = form.mode === "group" ? [form.group].filter(Boolean) : [];
  if (!hosts.length && !groups.length) return { missing: "needTarget" };
  return { command, hosts, groups, timeout_s: form.timeoutS, sudo: form.sudo };
}

// ---- terminal ----

/** Why a terminal closed, from its WebSocket close event (server reasons come first). */
export function closeReason(code: number, reason: string, opened: boolean): string {
  if (reason) return reason;
  if (!opened) return "refused: only operators may open a terminal, or the session has ended";
  if (code === 1000) return "closed";
  if (code === 1001) return "closed: the page or EGO is going away";
  if (code === 1006) return "connection lost";
  return `closed (code ${code})`;
}

// ---- audit ----

export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  via: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
  result: string | null;
  prev_hash: string;
  hash: string;
}

export interface VerifyAnswer {
  ok: boolean;
  checked: number;
  head_hash: string;
  broken_id: number | null;
  reason: string | null;
  text: string;
}

/** One line for the "what" column: the command if there is one, else the details. */
export function auditWhat(entry: AuditEntry): string {
  const d = entry.detail;
  if (!d) return "";
  if (typeof d.command === "string") return d.command;
  // terminal.input (MIRROR_AUDIT_KEYSTROKES): the typed lines on one row.
  if (typeof d.input === "string") return d.input.trimEnd().split("\n").join(" ⏎ ");
  if (typeof d.cols === "number" && typeof d.rows === "number") return `${d.cols}×${d.rows}`;
  if (typeof d.seconds === "number") return `${d.seconds} s`;
  if (typeof d.port === "number") return `port ${d.port}${typeof d.to === "string" ? ` on ${d.to}` : ""}`;
  return Object.entries(d)
    .filter(([key]) => key !== "run_id")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}

/** The query string of GET /api/audit for the filter fields (empty ones left out). */
export function auditQuery(filter: { actor: string; action: string; target: string; limit: number }): string {
  const params = new URLSearchParams();
  for (const key of ["actor", "action", "target"] as const) {
    const value = filter[key].trim();
    if (value) params.set(key, value);
  }
  params.set("limit", String(filter.limit));
  return params.toString();
}

// ---- tunnels ----

export interface Tunnel {
  id: string;
  host: string;
  listen_host: string;
  listen_port: number;
  dest_host: string;
  dest_port: number;
  opened_by: string;
  opened_at: number;
  connections: number;
  active: number;
  bytes_to_host: number;
  bytes_from_host: number;
  state: "open" | "closed";
  closed_at: number | null;
  close_reason: string | null;
}

export interface TunnelForm {
  host: string;
  port: string;
  to: string;
  listenPort: string;
}

/** The body of POST /api/tunnels, or what is wrong (a key of the UI's text table). */
export function tunnelBody(
  form: TunnelForm,
): { host: string; port: number; to: string; listen_port: number } | { missing: "needHost" | "needPort" } {
  if (!form.host) return { missing: "needHost" };
  const port = Number(form.port);
  const listen = form.listenPort.trim() === "" ? 0 : Number(form.listenPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { missing: "needPort" };
  if (!Number.isInteger(listen) || listen < 0 || listen > 65535) return { missing: "needPort" };
  return { host: form.host, port, to: form.to.trim() || "localhost", listen_port: listen };
}

/** "127.0.0.1:41234 → localhost:80": where to point a browser and where it lands. */
export function tunnelRoute(tunnel: Tunnel): string {
  return `${tunnel.listen_host}:${tunnel.listen_port} → ${tunnel.dest_host}:${tunnel.dest_port}`;
}

/** tunnelRoute's local end as a link to open in the browser. */
export function tunnelUrl(tunnel: Tunnel): string {
  return `http://${tunnel.listen_host}:${tunnel.listen_port}/`;
}

export { wsUrl } from "./api"; // the live stream (live.ts) uses it too
