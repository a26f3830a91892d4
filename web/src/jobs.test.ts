import { describe, expect, it } from "vitest";
import { foldRun, nextRunText, resultSummary, startLive, stateBadge } from "./jobs";

describe("jobs", () => {
  it("folds a run's stream into per-host output and results", () => {
    let run = startLive("r1", "nightly", ["web"]);
    run = foldRun(run, [
      { type: "output", host: "nas", stream: "stdout", text: "hello\n" },
      { type: "output", host: "web", stream: "stderr", text: "oops\n" },
      { type: "result", host: "nas", state: "ok", exit_status: 0, exit_signal: null, duration_s: 0.125, attempt: 1 },
    ]);
    expect(run.hosts.map((h) => [h.host, h.text, h.state])).toEqual([
      ["web", "oops\n", null],
      ["nas", "hello\n", "ok"],
    ]);
    expect(run.hosts[1].summary).toBe("exit 0 in 0.13 s");
    expect(run.state).toBeNull();
    run = foldRun(run, [
      { type: "result", host: "web", state: "error", error: "connection refused", attempt: 2 },
      { type: "done", state: "failed" },
    ]);
    expect(run.hosts[0].summary).toBe("error: connection refused (attempt 2)");
    expect(run.state).toBe("failed");
  });

  it("says a failed stream", () => {
    expect(foldRun(startLive("r", "j"), [{ type: "error", error: "no job run 'r'" }]).error).toBe("no job run 'r'");
  });

  it("words the next run", () => {
    const words = { paused: "paused", byHand: "by hand", in: (d: string) => `in ${d}` };
    const duration = (s: number) => `${s}s`;
    expect(nextRunText({ next_run: 160, paused: false, schedule: "every 60 s" }, 100, words, duration)).toBe("in 60s");
    expect(nextRunText({ next_run: null, paused: true, schedule: "every 60 s" }, 100, words, duration)).toBe("paused");
    expect(nextRunText({ next_run: null, paused: false, schedule: "by hand" }, 100, words, duration)).toBe("by hand");
    expect(resultSummary({ type: "result", state: "failed", exit_status: 3, exit_signal: null, duration_s: 1 })).toBe(
      "exit 3 in 1.00 s",
    );
    expect([stateBadge("ok"), stateBadge("missed"), stateBadge("failed"), stateBadge(null)]).toEqual([
      "ok",
      "warn",
      "bad",
      "idle",
    ]);
  });
});
