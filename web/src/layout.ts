// The map's automatic layout: ELK's layered (Sugiyama) algorithm, from elkjs, loaded only
// when the map first lays out (its own chunk: the first load stays as small as before);
// hosts on a switch port are packed in a grid under their switch (see blocks()).
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

export function loadElk(): Promise<Elk> {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default() as unknown as Elk);
  return elk;
}

const OPTIONS = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.edgeRouting": "POLYLINE",
  "elk.spacing.nodeNode": "32",
  "elk.layered.spacing.nodeNodeBetweenLayers": "64",
  "elk.spacing.componentComponent": "48",
};
const GAP = 12; // between hosts in a block
const BLOCK_TOP = 36; // from a switch to the first row of its hosts

interface Block {
  parent: string;
  leaves: string[];
  cols: number;
}

/**
 * Hosts hanging off one switch port each (a node whose only edge comes from a node with
 * others) are not given to ELK one by one: a switch with 250 of them would be one layer of
 * 250 for ELK's crossing minimisation, seconds of work. They are packed in a grid under
 * their switch instead, and ELK lays out the rest with each switch as one box, its block of
 * hosts included. 300 nodes: a few boxes for ELK.
 */
function blocks(graph: Graph, aspectRatio: number): Map<string, Block> {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const degree = new Map<string, number>();
  const edges = graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  for (const e of edges) for (const id of [e.source, e.target]) degree.set(id, (degree.get(id) ?? 0) + 1);
  const out = new Map<string, Block>();
  for (const e of edges) {
    if (degree.get(e.target) !== 1 || (degree.get(e.source) ?? 0) < 2) continue;
    const block = out.get(e.source) ?? { parent: e.source, leaves: [], cols: 1 };
    block.leaves.push(e.target);
    out.set(e.source, block);
  }
  for (const block of out.values()) {
    const k = block.leaves.length;
    // Rows and columns near the window's shape, at least as wide as four hosts.
    block.cols = Math.min(k, Math.max(4, Math.ceil(Math.sqrt(k * aspectRatio * (NODE_H + GAP) / (NODE_W + GAP)))));
  }
  return out;
}

function blockSize(b: Block): { width: number; height: number } {
  const rows = Math.ceil(b.leaves.length / b.cols);
  return {
    width: Math.max(NODE_W, b.cols * (NODE_W + GAP) - GAP),
    height: NODE_H + BLOCK_TOP + rows * (NODE_H + GAP) - GAP,
  };
}

/** Centre of every node: ELK's layered layout, then each pin where it was saved. */
export async function layoutGraph(
  graph: Graph,
  pins: Record<string, [number, number]>,
  aspectRatio = 1.6,
): Promise<Map<string, Point>> {
  const engine = await loadElk();
  const ids = new Set(graph.nodes.map((n) => n.id));
  const packed = blocks(graph, aspectRatio);
  const inBlock = new Set([...packed.values()].flatMap((b) => b.leaves));
  // Model order is kept: hosts in natural order (lab-2 before lab-10) along their switch.
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  for (const b of packed.values()) b.leaves.sort(byName);
  const result = await engine.layout({
    id: "root",
    layoutOptions: OPTIONS,
    children: graph.nodes
      .filter((n) => !inBlock.has(n.id))
      .sort((a, b) => byName(a.id, b.id))
      .map((n) => {
        const b = packed.get(n.id);
        return { id: n.id, ...(b ? blockSize(b) : { width: NODE_W, height: NODE_H }) };
      }),
    edges: graph.edges
      .filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target)
      .filter((e) => !inBlock.has(e.source) && !inBlock.has(e.target))
      .sort((a, b) => byName(a.source, b.source) || byName(a.target, b.target))
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const out = new Map<string, Point>();
  for (const c of result.children ?? []) {
    const b = packed.get(c.id);
    const size = b ? blockSize(b) : { width: NODE_W, height: NODE_H };
    const [x, y] = [c.x ?? 0, c.y ?? 0];
    out.set(c.id, { x: x + size.width / 2, y: y + NODE_H / 2 });
    if (!b) continue;
    const left = x + (size.width - Math.min(b.leaves.length, b.cols) * (NODE_W + GAP) + GAP) / 2;
    b.leaves.forEach((leaf, i) => {
      const [row, col] = [Math.floor(i / b.cols), i % b.cols];
      out.set(leaf, {
        x: left + col * (NODE_W + GAP) + NODE_W / 2,
        y: y + NODE_H + BLOCK_TOP + row * (NODE_H + GAP) + NODE_H / 2,
      });
    });
  }
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
