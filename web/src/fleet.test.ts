import { describe, expect, it } from "vitest";
import {
  NO_FILTER,
  SPARK_WINDOW_S,
  appendPoint,
  applyEvent,
  counts,
  groupRows,
  rowFromHost,
  summarize,
  type Row,
} from "./fleet";
import type { Host } from "./types";

function host(name: string, extra: Partial<Host> = {}): Host {
  return {
    name,
    address: null,
    groups: [],
    tags: [],
    mac: null,
    local: false,
    in_inventory: true,
    state: "pending",
    error: null,
    ts: null,
    duration_ms: null,
    metrics: {},
    metrics_ts: null,
    info: null,
    ...extra,
  };
}

function rows(...list: Row[]): Map<string, Row> {
  return new Map(list.map((r) => [r.name, r]));
}

describe("summarize", () => {
  it("picks the fullest mount, sums interfaces but lo, takes the hottest sensor", () => {
    const s = summarize({
      "cpu.busy_pct": 12,
      "mem.used_pct": 40,
      "load.1": 0.5,
      "fs.used_pct[/]": 50,
      "fs.used_pct[/홈]": 91,
      "net.rx_bytes_per_s[eth0]": 1000,
      "net.rx_bytes_per_s[wlan0]": 500,
      "net.rx_bytes_per_s[lo]": 1e9,
      "net.tx_bytes_per_s[eth0]": 10,
      "temp.celsius[coretemp/Package id 0]": 55,
      "temp.celsius[nvme/Composite]": 61,
      "gpu.util_pct[0]": 30,
      "gpu.util_pct[1]": 70,
    });
    expect(s).toEqual({
      cpu: 12,
      mem: 40,
      load1: 0.5,
      disk: 91,
      diskMount: "/홈",
      rx: 1500,
      tx: 10,
      temp: 61,
      gpu: 70,
    });
  });
  it("leaves missing families empty", () => {
    expect(summarize({})).toMatchObject({ cpu: null, disk: null, rx: null, gpu: null });
  });
});

describe("live events", () => {
  const alpha = rowFromHost(host("alpha", { address: "127.77.0.1" }));
  const byAddress = new Map([["127.77.0.1", "alpha"]]);

  it("updates state and metrics as a new row object", () => {
    const next = applyEvent(
      rows(alpha),
      { type: "host", host: "alpha", state: "up", ts: 1000, error: null, metrics: { "cpu.busy_pct": 42 } },
      byAddress,
    );
    expect(next).not.toBe(alpha);
    expect(next).toMatchObject({ state: "up", cpu: 42, ts: 1000 });
    expect(next!.sparkCpu).toEqual([[1000, 42]]);
  });
  it("keeps the last values when a host goes down without metrics", () => {
    const up = applyEvent(rows(alpha), { type: "host", host: "alpha", state: "up", ts: 1, metrics: { "cpu.busy_pct": 5 } }, byAddress)!;
    const down = applyEvent(
      rows(up),
      { type: "host", host: "alpha", state: "unreachable", error: "connection refused", ts: 6, metrics: {} },
      byAddress,
    )!;
    expect(down).toMatchObject({ state: "unreachable", error: "connection refused", cpu: 5 });
  });
  it("routes ping events by address and ignores unknown hosts", () => {
    const pinged = applyEvent(
      rows(alpha),
      { type: "ping", host: "ping/127.77.0.1", metrics: { "ping.up": 1, "ping.rtt_avg_ms": 0.2, "ping.loss_pct": 0 } },
      byAddress,
    );
    expect(pinged).toMatchObject({ pingMs: 0.2, pingLoss: 0 });
    expect(applyEvent(rows(alpha), { type: "host", host: "ghost" }, byAddress)).toBeNull();
    expect(applyEvent(rows(alpha), { type: "ping", host: "ping/127.77.0.9" }, byAddress)).toBeNull();
  });
});

describe("sparklines", () => {
  it("keep the last hour, in order, skipping repeats and gaps", () => {
    let spark = appendPoint([], 0, 1);
    spark = appendPoint(spark, 10, 2);
    spark = appendPoint(spark, 10, 3); // same time: ignored
    spark = appendPoint(spark, 20, null); // no value: ignored
    expect(spark).toEqual([
      [0, 1],
      [10, 2],
    ]);
    spark = appendPoint(spark, SPARK_WINDOW_S + 5, 4);
    expect(spark).toEqual([
      [10, 2],
      [SPARK_WINDOW_S + 5, 4],
    ]);
  });
});

describe("grouping, filtering and sorting", () => {
  const list = [
    { ...rowFromHost(host("web-10", { groups: ["servers"], address: "127.77.0.10", tags: ["dmz"] })), state: "up", cpu: 5 },
    { ...rowFromHost(host("web-2", { groups: ["servers"], address: "127.77.0.2" })), state: "up", cpu: 50 },
    { ...rowFromHost(host("db", { groups: ["servers"], address: "127.77.0.3" })), state: "unreachable", cpu: null },
    { ...rowFromHost(host("pc", { groups: ["workstations"], address: "127.77.0.4" })), state: "up", cpu: 20 },
    rowFromHost(host("loose", { address: "127.77.0.5" })),
  ];

  it("groups in inventory order with ungrouped last and sorts inside groups", () => {
    const groups = groupRows(list, NO_FILTER, "cpu", true, ["workstations", "servers"]);
    expect(groups.map((g) => g.name)).toEqual(["workstations", "servers", ""]);
    // Missing values sort last in both directions.
    expect(groups[1].rows.map((r) => r.name)).toEqual(["web-2", "web-10", "db"]);
    const byName = groupRows(list, NO_FILTER, "name", false);
    expect(byName.find((g) => g.name === "servers")!.rows.map((r) => r.name)).toEqual(["db", "web-2", "web-10"]);
  });
  it("filters by search, state, tag and group", () => {
    const names = (f: Partial<typeof NO_FILTER>) =>
      groupRows(list, { ...NO_FILTER, ...f }, "name", false).flatMap((g) => g.rows.map((r) => r.name));
    expect(names({ query: "WEB" })).toEqual(["web-2", "web-10"]);
    expect(names({ query: "127.77.0.4" })).toEqual(["pc"]);
    expect(names({ state: "down" })).toEqual(["db"]);
    expect(names({ tag: "dmz" })).toEqual(["web-10"]);
    expect(names({ group: "workstations" })).toEqual(["pc"]);
  });
  it("counts states", () => {
    expect(counts(list)).toEqual({ up: 3, down: 1, pending: 1 });
  });
});
