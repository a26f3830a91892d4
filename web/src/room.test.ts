import { describe, expect, it } from "vitest";
import { RACK_D, U_M, cableColour, deviceColour, generatedWorld, heat, layout, naturalSort } from "./room";
import { ROOM_TEXT } from "./roomText";
import type { World } from "./room";

const world = (): World => ({
  sites: [
    {
      name: "home",
      rooms: [
        {
          name: "office",
          size: { w: 5, d: 4, h: 2.6 },
          racks: [
            {
              name: "rack-a",
              position: { x: 0.5, y: 0.3 },
              rotation: 0,
              height_u: 42,
              devices: [
                { device: "sw", u: 40, height_u: 1 },
                { device: "nas", u: 10, height_u: 2 },
              ],
            },
          ],
          places: [{ name: "desk-1", kind: "desk", position: { x: 3, y: 2.5 }, rotation: 90, devices: ["pc"] }],
        },
      ],
    },
  ],
  devices: [
    { name: "sw", kind: "snmp", address: "", state: "up", cpu_pct: 5, alerts_firing: 0, ports: ["Gi1/0/10", "Gi1/0/2"], placed: true },
    { name: "nas", kind: "host", address: "", state: "timeout", cpu_pct: null, alerts_firing: 0, ports: ["eth0"], placed: true },
    { name: "pc", kind: "host", address: "", state: "up", cpu_pct: 90, alerts_firing: 2, ports: [], placed: true },
    { name: "tv", kind: "host", address: "", state: "up", cpu_pct: null, alerts_firing: 0, ports: [], placed: false },
  ],
  cables: [
    {
      index: 0, label: "P-10", type: "cat6", colour: "blue", a: { node: "nas", port: "eth0" },
      b: { node: "sw", port: "Gi1/0/10" }, status: "wrong-port", message: "", where: "inv.yaml:9",
    },
  ],
  findings: [],
  source: "inv.yaml",
  version: null,
});

describe("room layout", () => {
  it("puts each device at its U inside its rack, front towards +y", () => {
    const out = layout(world())!;
    const sw = out.devices.find((b) => b.name === "sw")!;
    const nas = out.devices.find((b) => b.name === "nas")!;
    expect(sw.centre[1]).toBeCloseTo(0.1 + 39 * U_M + (U_M - 0.004) / 2, 5);
    expect(nas.size[1]).toBeCloseTo(2 * U_M - 0.004, 5);
    expect(sw.centre[0]).toBeCloseTo(0.8, 5); // rack x 0.5 + half its 0.6 m width
    expect(sw.front[2]).toBeGreaterThan(sw.centre[2]); // front faces the room's +y (three's +z)
    expect(sw.front[2]).toBeLessThan(0.3 + RACK_D);
    expect(out.unplaced).toEqual(["tv"]);
  });
  it("turns a place by its rotation and puts PCs on the desk top", () => {
    const pc = layout(world())!.devices.find((b) => b.name === "pc")!;
    expect(pc.centre[1]).toBeGreaterThan(0.75);
    expect(pc.yaw).toBeCloseTo(-Math.PI / 2, 5);
    expect(pc.centre[0]).toBeLessThan(3); // rotated 90°: its depth runs along -x
  });
  it("colours by state and alerts, or by CPU in heat mode", () => {
    const out = layout(world())!;
    const colour = (name: string) => out.devices.find((b) => b.name === name)!.colour;
    expect(colour("sw")).toBe(0x3fb950);
    expect(colour("nas")).toBe(0xf85149);
    expect(colour("pc")).toBe(0xf85149); // up, but alerts firing
    expect(out.beacons).toHaveLength(1);
    const hot = layout(world(), "heat")!;
    expect(hot.devices.find((b) => b.name === "pc")!.colour).toBe(heat(90));
    expect(deviceColour(world().devices[1], "heat")).toBe(0x6e7681);
    expect(heat(0)).not.toBe(heat(100));
  });
  it("draws cables from port to port; a wrong one in magenta", () => {
    const out = layout(world())!;
    const [cable] = out.cables;
    expect(cable.colour).toBe(0xff00ff);
    expect(cable.points).toHaveLength(6);
    expect(cable.points[2][1]).toBeCloseTo(2.35, 5); // the ceiling tray
    expect(naturalSort(["Gi1/0/10", "Gi1/0/2"])).toEqual(["Gi1/0/2", "Gi1/0/10"]);
    expect(cableColour({ ...world().cables[0], status: "ok", colour: "#102030" })).toBe(0x102030);
    expect(out.labels.map((l) => l.text)).toContain("P-10");
  });
  it("has nothing to draw without rooms", () => {
    expect(layout({ ...world(), sites: [] })).toBeNull();
  });
  it("makes the scale test's world: 20 racks, 300 devices, 300 cables, all placed", () => {
    const big = layout(generatedWorld(20, 300, 300))!;
    expect([big.racks.length, big.devices.length, big.cables.length]).toEqual([20, 300, 300]);
    expect(big.unplaced).toEqual([]);
  });
  it("has every room string in Korean", () => {
    expect(Object.keys(ROOM_TEXT.ko).sort()).toEqual(Object.keys(ROOM_TEXT.en).sort());
  });
});
