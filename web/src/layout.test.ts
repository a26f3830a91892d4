import { describe, expect, it } from "vitest";
import { NODE_H, NODE_W, benchGraph, layoutGraph } from "./layout";
import type { Graph } from "./topology";

function overlaps(points: { x: number; y: number }[]): number {
  let found = 0;
  for (let i = 0; i < points.length; i++)
    for (let j = i + 1; j < points.length; j++)
      if (Math.abs(points[i].x - points[j].x) < NODE_W && Math.abs(points[i].y - points[j].y) < NODE_H) found++;
  return found;
}

describe("layoutGraph", () => {
  it("places all 300 nodes of a switch tree, none on another, hosts below their switch", async () => {
    const graph = benchGraph(300);
    const laid = await layoutGraph(graph, {});
    expect(laid.size).toBe(300);
    expect(overlaps([...laid.values()])).toBe(0);
    for (const e of graph.edges) expect(laid.get(e.target)!.y).toBeGreaterThan(laid.get(e.source)!.y);
  });
  it("keeps a pinned node where it was pinned, and a router above its switch", async () => {
    const node = (id: string, kind = "host") => ({ id, kind, label: id, state: "up", address: null, detail: null });
    const edge = (source: string, target: string) => ({
      id: `${source}-${target}`, source, target, sourcePort: null, targetPort: null, label: null, kind: "lldp", counters: null,
    }); // prettier-ignore
    const graph: Graph = {
      nodes: [node("gw", "snmp"), node("sw", "snmp"), node("pc-10"), node("pc-2")],
      edges: [edge("gw", "sw"), edge("sw", "pc-10"), edge("sw", "pc-2")],
    };
    const laid = await layoutGraph(graph, { "pc-10": [-500, 900] });
    expect(laid.get("pc-10")).toEqual({ x: -500, y: 900 });
    expect(laid.get("gw")!.y).toBeLessThan(laid.get("sw")!.y);
    expect(laid.get("pc-2")!.y).toBeGreaterThan(laid.get("sw")!.y);
  });
});
