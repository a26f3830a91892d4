import { describe, expect, it } from "vitest";
import { RANGES, align, busiest, families, label, latest, perCore, rangeFrom, xRange } from "./series";

describe("families", () => {
  it("puts each series in its chart, cores in numeric order, total first", () => {
    const f = families([
      "cpu.busy_pct[10]",
      "cpu.busy_pct[2]",
      "cpu.busy_pct",
      "cpu.user_pct",
      "mem.used_pct",
      "swap.used_pct",
      "load.1",
      "load.15",
      "fs.used_pct[/]",
      "net.rx_bytes_per_s[eth0]",
      "net.tx_bytes_per_s[eth0]",
      "net.rx_bytes_per_s[lo]",
      "temp.celsius[acpitz/temp1]",
      "gpu.util_pct[0]",
      "gpu.temp_celsius[0]",
      "uptime_s",
    ]);
    const byKey = Object.fromEntries(f.map((x) => [x.key, x.series]));
    expect(byKey.cpu).toEqual(["cpu.busy_pct", "cpu.busy_pct[2]", "cpu.busy_pct[10]"]);
    expect(byKey.mem).toEqual(["mem.used_pct", "swap.used_pct"]);
    expect(byKey.net).toEqual(["net.rx_bytes_per_s[eth0]", "net.tx_bytes_per_s[eth0]"]);
    expect(byKey.temp).toEqual(["gpu.temp_celsius[0]", "temp.celsius[acpitz/temp1]"]);
    expect(byKey.gpu).toEqual(["gpu.util_pct[0]"]);
    expect(f.map((x) => x.key)).not.toContain("diskio"); // empty families are left out
  });
  it("labels series shortly", () => {
    expect(label("cpu.busy_pct")).toBe("total");
    expect(label("cpu.busy_pct[3]")).toBe("cpu3");
    expect(label("net.tx_bytes_per_s[wlan0]")).toBe("wlan0 tx");
    expect(label("fs.used_pct[/a[b]]")).toBe("/a[b]");
  });
});

describe("ranges and alignment", () => {
  it("has presets from 15 minutes to 30 days", () => {
    expect(RANGES[0].seconds).toBe(900);
    expect(RANGES.at(-1)!.seconds).toBe(30 * 86400);
    expect(rangeFrom(RANGES[4])).toBe("-7d");
  });
  it("aligns series on the union of their timestamps", () => {
    expect(
      align([
        [
          [1, 10],
          [3, 30],
        ],
        [
          [2, 200],
          [3, 300],
        ],
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, null, 30],
      [null, 200, 300],
    ]);
  });
});

describe("xRange", () => {
  it("widens a lone point to a minute, ending at it", () => {
    expect(xRange(1000, 1000, 3600)).toEqual([940, 1000]);
    expect(xRange(1000, 1000, 900)).toEqual([940, 1000]);
    expect(xRange(1000, 1030, 900)).toEqual([970, 1030]);
  });
  it("fills the chart with the data it has, not the whole span", () => {
    // a fresh start: four minutes of data in the 1 h view
    expect(xRange(10_000, 10_240, 3600)).toEqual([10_000, 10_240]);
    expect(xRange(10_000, 12_000, 3600)).toEqual([10_000, 12_000]);
  });
  it("never shows more than the chosen span", () => {
    expect(xRange(0, 5000, 900)).toEqual([4100, 5000]);
  });
});

describe("latest", () => {
  it("is the newest finite value", () => {
    expect(latest([1, 2, null])).toBe(2);
    expect(latest([null, null])).toBeNull();
    expect(latest([3, Number.NaN])).toBe(3);
    expect(latest(undefined)).toBeNull();
  });
});

describe("perCore and busiest", () => {
  const names = (n: number) => ["cpu.busy_pct", ...Array.from({ length: n }, (_, i) => `cpu.busy_pct[${i}]`)];
  it("asks for a heat strip from twelve cores on", () => {
    expect(perCore(families(names(11))[0])).toEqual([]);
    expect(perCore(families(names(12))[0])).toHaveLength(12);
    expect(perCore(families(["mem.used_pct"])[0])).toEqual([]);
  });
  it("orders the busiest by their newest value", () => {
    expect(busiest([[90, 10], [null, 50], [5, null], [null, null]], 2)).toEqual([
      [1, 50],
      [0, 10],
    ]);
  });
});
