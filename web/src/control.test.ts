import { describe, expect, it } from "vitest";
import {
  type AuditEntry,
  type HostResult,
  type Job,
  applyMessages,
  auditQuery,
  auditWhat,
  closeReason,
  commandBody,
  resultText,
  startRun,
  tally,
  tunnelBody,
  tunnelRoute,
  wsUrl,
} from "./control";

const job: Job = {
  id: "j1",
  command: "uptime",
  hosts: ["a", "b"],
  actor: "demo",
  action: "command",
  started: 1000,
  done: false,
  cancelled: false,
  results: null,
};

function result(host: string, extra: Partial<HostResult> = {}): HostResult {
  return {
    host,
    state: "ok",
    exit_status: 0,
    exit_signal: null,
    duration_s: 0.05,
    stdout: "",
    stderr: "",
    stdout_bytes: 0,
    stderr_bytes: 0,
    truncated: false,
    error: null,
    ...extra,
  };
}

describe("a streamed run", () => {
  it("keeps each host's output apart, in order, stdout and stderr as they came", () => {
    let state = startRun(job);
    state = applyMessages(state, [
      { type: "output", host: "a", stream: "stdout", text: "one ", ts: 1 },
      { type: "output", host: "b", stream: "stderr", text: "oops\n", ts: 1 },
      { type: "output", host: "a", stream: "stdout", text: "two\n", ts: 2 },
      { type: "output", host: "a", stream: "stderr", text: "warn\n", ts: 3 },
    ]);
    expect(state.hosts.map((h) => h.host)).toEqual(["a", "b"]);
    expect(state.hosts[0].chunks).toEqual([
      { stream: "stdout", text: "one two\n" },
      { stream: "stderr", text: "warn\n" },
    ]);
    expect(state.hosts[1].chunks).toEqual([{ stream: "stderr", text: "oops\n" }]);
    expect(state.done).toBe(false);
    expect(tally(state).running).toBe(2);
  });

  it("does not change the state it was given", () => {
    const before = startRun(job);
    const after = applyMessages(before, [{ type: "output", host: "a", stream: "stdout", text: "x", ts: 1 }]);
    expect(before.hosts[0].chunks).toEqual([]);
    expect(after.hosts[0].chunks).toHaveLength(1);
  });

  it("takes the results from the done message", () => {
    const results = [result("a"), result("b", { state: "failed", exit_status: 2 })];
    const state = applyMessages(startRun(job), [{ type: "done", ...job, done: true, results }]);
    expect(state.done).toBe(true);
    expect(state.job.done).toBe(true);
    expect(state.hosts.map((h) => h.result?.state)).toEqual(["ok", "failed"]);
    expect(tally(state)).toMatchObject({ running: 0, ok: 1, failed: 1 });
  });

  it("keeps only the tail of very long output and counts what it dropped", () => {
    let state = startRun(job);
    for (let i = 0; i < 10; i++) {
      state = applyMessages(state, [{ type: "output", host: "a", stream: i % 2 ? "stderr" : "stdout", text: `${i}`.repeat(10), ts: i }], 25);
    }
    const a = state.hosts[0];
    expect(a.chars).toBe(25);
    expect(a.dropped).toBe(75);
    expect(a.chunks.map((c) => c.text).join("")).toBe("77777" + "8".repeat(10) + "9".repeat(10));
  });

  it("ends on an error message", () => {
    const state = applyMessages(startRun(job), [{ type: "error", error: "no command run 'x'" }]);
    expect(state.done).toBe(true);
    expect(state.error).toBe("no command run 'x'");
  });
});

describe("result text", () => {
  it("says exit status, signal, timeout or the error", () => {
    expect(resultText(result("a"))).toBe("exit 0");
    expect(resultText(result("a", { state: "failed", exit_status: null, exit_signal: "TERM" }))).toBe("signal TERM");
    expect(resultText(result("a", { state: "timeout" }))).toBe("timeout");
    expect(resultText(result("a", { state: "error", error: "host is down" }))).toBe("host is down");
  });
});

describe("command body", () => {
  const form = { mode: "host" as const, host: "a", group: "lab", picked: ["b", "c"], command: " uptime ", timeoutS: 60, sudo: false };

  it("targets one host, a group or the picked hosts", () => {
    expect(commandBody(form)).toEqual({ command: "uptime", hosts: ["a"], groups: [], timeout_s: 60, sudo: false });
    expect(commandBody({ ...form, mode: "group" })).toMatchObject({ hosts: [], groups: ["lab"] });
    expect(commandBody({ ...form, mode: "picked" })).toMatchObject({ hosts: ["b", "c"], groups: [] });
  });

  it("says what is missing", () => {
    expect(commandBody({ ...form, command: "  " })).toEqual({ missing: "needCommand" });
    expect(commandBody({ ...form, mode: "picked", picked: [] })).toEqual({ missing: "needTarget" });
    expect(commandBody({ ...form, timeoutS: Number.NaN })).toEqual({ missing: "needTimeout" });
  });
});

describe("terminal close reason", () => {
  it("prefers the server's reason, else explains the code", () => {
    expect(closeReason(1000, "idle timeout", true)).toBe("idle timeout");
    expect(closeReason(1006, "", false)).toMatch(/^refused/);
    expect(closeReason(1006, "", true)).toBe("connection lost");
    expect(closeReason(4000, "", true)).toBe("closed (code 4000)");
  });
});

describe("audit", () => {
  const entry: AuditEntry = {
    id: 1,
    ts: 0,
    actor: "demo",
    via: "session",
    action: "command",
    target: "lab-01",
    detail: { command: "uptime", run_id: "x" },
    result: "started",
    prev_hash: "0",
    hash: "1",
  };

  it("shows the command, else the terminal size, else the details", () => {
    expect(auditWhat(entry)).toBe("uptime");
    expect(auditWhat({ ...entry, detail: { cols: 80, rows: 24 } })).toBe("80×24");
    expect(auditWhat({ ...entry, detail: { run_id: "x", who: "me", n: 2 } })).toBe("who=me n=2");
    expect(auditWhat({ ...entry, detail: null })).toBe("");
    expect(auditWhat({ ...entry, detail: { input: "ls\nexit\n", lines: 2 } })).toBe("ls ⏎ exit");
  });

  it("builds the filter query without empty fields", () => {
    expect(auditQuery({ actor: " demo ", action: "", target: "lab", limit: 100 })).toBe("actor=demo&target=lab&limit=100");
  });
});

describe("websocket address", () => {
  it("follows the page's scheme and host", () => {
    expect(wsUrl("/api/x", { protocol: "http:", host: "127.0.0.1:8077" })).toBe("ws://127.0.0.1:8077/api/x");
    expect(wsUrl("/api/x", { protocol: "https:", host: "ego.lan" })).toBe("wss://ego.lan/api/x");
  });
});

describe("tunnels", () => {
  const form = { host: "nas", port: "5000", to: "", listenPort: "" };
  it("builds the POST body with defaults", () => {
    expect(tunnelBody(form)).toEqual({ host: "nas", port: 5000, to: "localhost", listen_port: 0 });
    expect(tunnelBody({ ...form, to: " 10.0.0.9 ", listenPort: "18080" })).toEqual({
      host: "nas",
      port: 5000,
      to: "10.0.0.9",
      listen_port: 18080,
    });
  });
  it("says what is wrong", () => {
    expect(tunnelBody({ ...form, host: "" })).toEqual({ missing: "needHost" });
    for (const port of ["", "0", "70000", "8.5", "http"]) expect(tunnelBody({ ...form, port })).toEqual({ missing: "needPort" });
    expect(tunnelBody({ ...form, listenPort: "-1" })).toEqual({ missing: "needPort" });
  });
  it("shows where a tunnel goes", () => {
    const tunnel = {
      id: "t1",
      host: "nas",
      listen_host: "127.0.0.1",
      listen_port: 41234,
      dest_host: "localhost",
      dest_port: 5000,
      opened_by: "alice",
      opened_at: 0,
      connections: 0,
      active: 0,
      bytes_to_host: 0,
      bytes_from_host: 0,
      state: "open" as const,
      closed_at: null,
      close_reason: null,
    };
    expect(tunnelRoute(tunnel)).toBe("127.0.0.1:41234 → localhost:5000");
  });
});
