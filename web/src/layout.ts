// The map's automatic layout: ELK's layered (Sugiyama) algorithm, from elkjs, loaded only
// when the map first lays out (its own chunk: the first load stays as small as before).
// Pinned nodes keep their saved position; the edges are straight lines between centres, so
// a pinned node's edges follow it.

import type { Graph } from "./topology";

export const NODE_W = 132;
export const NODE_H = 40;

export interface Point {
  x: number;
  y: number;
}

type Elk = { layout: (graph: unknown) => Promise<{ children?: { id: string; x?: number; y?: number }[] }> };
let elk: Promise<Elk> | null = null;

function loadElk(): Promise<Elk> {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default() as unknown as Elk);
  return elk;
}

const OPTIONS = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.edgeRouting": "POLYLINE",
  "elk.spacing.nodeNode": "24",
  "elk.layered.spacing.nodeNodeBetweenLayers": "64",
  "elk.spacing.componentComponent": "48",
  // A switch with many hosts is one wide layer: wrap it into rows near the window's shape.
  "elk.layered.wrapping.strategy": "MULTI_EDGE",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
};

/** Centre of every node: ELK's layered layout, then each pin where it was saved. */
export async function layoutGraph(
  graph: Graph,
  pins: Record<string, [number, number]>,
  aspectRatio = 1.6,
): Promise<Map<string, Point>> {
  const engine = await loadElk();
  const ids = new Set(graph.nodes.map((n) => n.id));
  // Model order is kept: hosts in natural order (lab-2 before lab-10) along their switch.
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  const result = await engine.layout({
    id: "root",
    layoutOptions: { ...OPTIONS, "elk.aspectRatio": aspectRatio.toFixed(2) },
    children: [...graph.nodes].sort((a, b) => byName(a.id, b.id)).map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
    edges: graph.edges
      .filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target)
      .sort((a, b) => byName(a.source, b.source) || byName(a.target, b.target))
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const out = new Map<string, Point>();
  for (const c of result.children ?? []) out.set(c.id, { x: (c.x ?? 0) + NODE_W / 2, y: (c.y ?? 0) + NODE_H / 2 });
  for (const [id, [x, y]] of Object.entries(pins)) if (ids.has(id)) out.set(id, { x, y });
  return out;
}

/** A made-up graph of ``n`` nodes for bench/ui.py: switches in a tree, hosts on their ports. */
export function benchGraph(n: number): Graph {
  const nodes: Graph["nodes"] = [];
  const edges: Graph["edges"] = [];
  const switches = Math.max(1, Math.ceil(n / 25));
  for (let i = 0; i < n; i++) {
    const sw = i < switches;
    nodes.push({ id: `n${i}`, kind: sw ? "snmp" : "host", label: `node-${i}`, state: "up", address: null, detail: null });
    const parent = sw ? (i === 0 ? -1 : Math.floor((i - 1) / 4)) : i % switches;
    if (parent >= 0)
      edges.push({
        id: `e${i}`,
        source: `n${parent}`,
        target: `n${i}`,
        sourcePort: null,
        targetPort: null,
        label: null,
        kind: sw ? "lldp" : "fdb",
        counters: null,
      });
  }
  return { nodes, edges };
}
