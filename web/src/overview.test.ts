import { describe, expect, it } from "vitest";
import { NO_FILTER, appendPoint, compareRows, groupRows, rowFromOverview, sparkPath } from "./fleet";

describe("rowFromOverview", () => {
  it("reads a slim host, its dense sparklines and its ping", () => {
    const row = rowFromOverview(
      {
        name: "nas",
        address: "10.0.0.20",
        groups: ["servers"],
        state: "up",
        ts: 1000,
        metrics: { "cpu.busy_pct": 12, "mem.used_pct": 40, "fs.used_pct[/]": 70 },
        ping_ms: 0.4,
        spark: { "cpu.busy_pct": [5, null, 7], "mem.used_pct": [null, null, 40] },
      },
      600,
      60,
    );
    expect(row).toMatchObject({
      name: "nas",
      tags: [],
      error: null,
      cpu: 12,
      mem: 40,
      disk: 70,
      diskMount: "/",
      pingMs: 0.4,
      pingLoss: null,
      sparkRx: [],
    });
    expect(row.sparkCpu).toEqual([
      [600, 5],
      [720, 7],
    ]);
    expect(row.sparkMem).toEqual([[720, 40]]);
    // a live poll after the minute bucket continues the line
    expect(appendPoint(row.sparkCpu, 745, 9)).toEqual([
      [600, 5],
      [720, 7],
      [745, 9],
    ]);
  });

  it("takes a never-polled host with every default left out", () => {
    const row = rowFromOverview({ name: "new", state: "pending" }, 0, 60);
    expect(row).toMatchObject({ address: null, groups: [], cpu: null, sparkCpu: [], sparkMem: [] });
  });
});

describe("sparkPath", () => {
  it("spans the box, 1 px margin, values clipped to the scale", () => {
    expect(
      sparkPath(
        [
          [0, 0],
          [30, 50],
          [60, 150],
        ],
        62,
        22,
        100,
      ),
    ).toBe("M1.0 21.0L31.0 11.0L61.0 1.0");
  });

  it("scales to the largest point without a max, and draws nothing for one point", () => {
    expect(
      sparkPath(
        [
          [10, 2],
          [20, 4],
        ],
        12,
        12,
      ),
    ).toBe("M1.0 6.0L11.0 1.0");
    expect(sparkPath([[10, 2]], 12, 12)).toBe("");
  });
});

describe("sorting by name", () => {
  it("orders numbers inside names numerically", () => {
    const names = ["lab-10", "lab-2", "Lab-1", "lab-100"];
    const rows = names.map((name) => rowFromOverview({ name, state: "up" }, 0, 60));
    expect([...rows].sort((a, b) => compareRows(a, b, "name", false)).map((r) => r.name)).toEqual([
      "Lab-1",
      "lab-2",
      "lab-10",
      "lab-100",
    ]);
    expect(groupRows(rows, NO_FILTER, "name", true)[0].rows.map((r) => r.name)).toEqual([
      "lab-100",
      "lab-10",
      "lab-2",
      "Lab-1",
    ]);
  });
});
