// The 2D map's pure parts: /api/topology's shapes, the graph each layer draws, and how a node
// and a link look from state, alerts and port counters (tested in topology.test.ts).

import type { Metrics } from "./types";

export type Layer = "physical" | "l2" | "l3";
export const LAYERS: Layer[] = ["physical", "l2", "l3"];

export interface TopoNode {
  id: string;
  kind: string; // host, snmp, discovered
  address: string | null;
  mac: string | null;
  state: string;
  label: string;
}

export interface TopoEnd {
  node: string;
  port: string | null;
}

export interface Utilisation {
  node: string;
  port: string;
  rx_bytes_per_s: number | null;
  tx_bytes_per_s: number | null;
  util_pct: number | null;
  speed_bps: number | null;
  oper_up: boolean | null;
}

export interface TopoLink {
  id: string;
  a: TopoEnd;
  b: TopoEnd;
  sources: string[]; // lldp, fdb, cable
  label: string | null;
  utilisation: Utilisation | null;
}

export interface TopoSubnet {
  id: string;
  name: string;
  cidr: string;
  members: string[];
  gateways: string[];
  arp: number;
}

export interface Topology {
  nodes: TopoNode[];
  links: TopoLink[];
  subnets: TopoSubnet[];
}

/** What one layer draws: nodes (subnets are nodes on L3) and edges between them. */
export interface GraphNode {
  id: string;
  kind: string; // host, snmp, discovered, subnet
  label: string;
  state: string;
  address: string | null;
  detail: string | null; // a subnet's CIDR
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  sourcePort: string | null;
  targetPort: string | null;
  label: string | null;
  kind: string; // cable, lldp, fdb, member, gateway
  // Whose port counters colour the edge: the SNMP end (node, port).
  counters: { node: string; port: string } | null;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function fromNode(n: TopoNode): GraphNode {
  return { id: n.id, kind: n.kind, label: n.label, state: n.state, address: n.address, detail: null };
}

function counters(link: TopoLink, kinds: Map<string, string>): GraphEdge["counters"] {
  if (link.utilisation) return { node: link.utilisation.node, port: link.utilisation.port };
  for (const end of [link.a, link.b]) if (end.port && kinds.get(end.node) === "snmp") return { node: end.node, port: end.port };
  return null;
}

function fromLink(link: TopoLink, kind: string, kinds: Map<string, string>): GraphEdge {
  // Drawn from the device down to the host, whichever end a cable was declared from: the
  // layout hangs hosts under their switch by the edge's direction.
  const hostFirst = kinds.get(link.a.node) !== "snmp" && kinds.get(link.b.node) === "snmp";
  const [from, to] = hostFirst ? [link.b, link.a] : [link.a, link.b];
  return {
    id: link.id,
    source: from.node,
    target: to.node,
    sourcePort: from.port,
    targetPort: to.port,
    label: link.label,
    kind,
    counters: counters(link, kinds),
  };
}

/**
 * physical: the declared cables and the nodes they join; L2: what the network says (LLDP
 * neighbours, and each host on the switch port its MAC was learnt on), every node shown;
 * L3: the subnets as nodes, each node joined to its subnets (gateways marked).
 */
export function layerGraph(topo: Topology, layer: Layer): Graph {
  const kinds = new Map(topo.nodes.map((n) => [n.id, n.kind]));
  if (layer === "physical") {
    const edges = topo.links.filter((l) => l.sources.includes("cable")).map((l) => fromLink(l, "cable", kinds));
    const used = new Set(edges.flatMap((e) => [e.source, e.target]));
    return { nodes: topo.nodes.filter((n) => used.has(n.id)).map(fromNode), edges };
  }
  if (layer === "l2") {
    const edges = topo.links
      .filter((l) => l.sources.includes("lldp") || l.sources.includes("fdb"))
      .map((l) => fromLink(l, l.sources.includes("lldp") ? "lldp" : "fdb", kinds));
    return { nodes: topo.nodes.map(fromNode), edges };
  }
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const known = new Map(topo.nodes.map((n) => [n.id, n]));
  const placed = new Set<string>();
  for (const s of topo.subnets) {
    nodes.push({ id: s.id, kind: "subnet", label: s.name, state: "subnet", address: null, detail: s.cidr });
    for (const member of s.members) {
      const node = known.get(member);
      if (!node) continue;
      if (!placed.has(member)) nodes.push(fromNode(node));
      placed.add(member);
      const gateway = s.gateways.includes(member);
      edges.push({
        id: `${s.id}--${member}`,
        source: gateway ? member : s.id,
        target: gateway ? s.id : member,
        sourcePort: null,
        targetPort: null,
        label: gateway ? `gateway · ARP ${s.arp}` : null,
        kind: gateway ? "gateway" : "member",
        counters: null,
      });
    }
  }
  for (const n of topo.nodes) if (!placed.has(n.id) && n.kind !== "discovered") nodes.push(fromNode(n));
  return { nodes, edges };
}

/** A node's colour class: firing critical alert > warning > state. */
export function nodeClass(state: string, alert: "critical" | "warning" | "info" | null): string {
  if (state === "subnet") return "subnet";
  if (alert === "critical") return "bad alert";
  if (alert === "warning") return "warn alert";
  if (state === "up") return "ok";
  if (state === "pending" || state === "unknown") return "idle";
  if (state === "timeout" || state === "hostkey-unknown") return "warn";
  return "bad";
}

/** The worst firing alert per target. */
export function worstAlerts(
  alerts: { target: string; severity: string; status: string }[],
): Map<string, "critical" | "warning" | "info"> {
  const rank = { info: 1, warning: 2, critical: 3 } as const;
  const out = new Map<string, "critical" | "warning" | "info">();
  for (const a of alerts) {
    if (a.status !== "firing" || !(a.severity in rank)) continue;
    const sev = a.severity as keyof typeof rank;
    const had = out.get(a.target);
    if (!had || rank[sev] > rank[had]) out.set(a.target, sev);
  }
  return out;
}

export interface PortState {
  rx: number | null; // bytes/s into the device on this port
  tx: number | null;
  util: number | null; // %
  speed: number | null; // bit/s
  up: boolean | null;
}

/** One port's counters from a device's latest metrics (series `net.*[port]`). */
export function portState(metrics: Metrics | undefined, port: string): PortState {
  const get = (m: string) => {
    const v = metrics?.[`${m}[${port}]`];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const oper = get("net.oper_up");
  return {
    rx: get("net.rx_bytes_per_s"),
    tx: get("net.tx_bytes_per_s"),
    util: get("net.util_pct"),
    speed: get("net.speed_bps"),
    up: oper == null ? null : oper >= 1,
  };
}

/** Stroke width from the link speed (log scale: 10M → 1, 100G → 6) and colour class from
 * utilisation; a port that is down is drawn dashed in the "down" class. */
export function linkStyle(p: PortState | null): { width: number; cls: string } {
  if (!p) return { width: 1.5, cls: "link-unknown" };
  const width = p.speed && p.speed > 0 ? Math.max(1, Math.min(6, Math.log10(p.speed / 1e6) * 1.25 + 1)) : 1.5;
  if (p.up === false) return { width, cls: "link-down" };
  const u = p.util;
  const cls = u == null ? "link-idle" : u >= 80 ? "link-hot" : u >= 50 ? "link-busy" : u >= 5 ? "link-used" : "link-idle";
  return { width, cls };
}
