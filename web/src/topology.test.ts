import { describe, expect, it } from "vitest";
import { type Topology, layerGraph, linkStyle, nodeClass, portState, worstAlerts } from "./topology";

const end = (node: string, port: string | null) => ({ node, port });
const TOPO: Topology = {
  nodes: [
    { id: "sw", kind: "snmp", address: "127.0.0.2", mac: null, state: "up", label: "sw" },
    { id: "gw", kind: "snmp", address: "127.0.0.1", mac: null, state: "up", label: "gw" },
    { id: "pc", kind: "host", address: "127.0.0.5", mac: null, state: "unreachable", label: "pc" },
    { id: "nas", kind: "host", address: "127.0.0.6", mac: null, state: "up", label: "nas" },
  ],
  links: [
    { id: "l1", a: end("sw", "p9"), b: end("gw", "ether1"), sources: ["lldp", "cable"], label: "C-01", utilisation: null },
    { id: "l2", a: end("sw", "p1"), b: end("pc", null), sources: ["fdb"], label: null, utilisation: null },
  ],
  subnets: [{ id: "subnet:lan", name: "lan", cidr: "127.0.0.0/24", members: ["sw", "gw", "pc", "nas"], gateways: ["gw"], arp: 3 }],
};

describe("layerGraph", () => {
  it("physical: only cables and the nodes they join", () => {
    const g = layerGraph(TOPO, "physical");
    expect(g.edges.map((e) => e.id)).toEqual(["l1"]);
    expect(g.nodes.map((n) => n.id).sort()).toEqual(["gw", "sw"]);
  });
  it("L2: LLDP and MAC-table links, every node, counters on the switch end", () => {
    const g = layerGraph(TOPO, "l2");
    expect(g.nodes).toHaveLength(4);
    expect(g.edges.map((e) => [e.id, e.kind])).toEqual([["l1", "lldp"], ["l2", "fdb"]]);
    expect(g.edges[1].counters).toEqual({ node: "sw", port: "p1" });
  });
  it("draws a host's cable from the switch down, whichever end it was declared from", () => {
    const cable = { id: "l3", a: end("nas", "eth0"), b: end("sw", "p2"), sources: ["cable", "fdb"], label: "C-02", utilisation: null };
    const g = layerGraph({ ...TOPO, links: [...TOPO.links, cable] }, "l2");
    const edge = g.edges.find((e) => e.id === "l3")!;
    expect([edge.source, edge.sourcePort, edge.target, edge.targetPort]).toEqual(["sw", "p2", "nas", "eth0"]);
  });
  it("L3: subnets are nodes, gateways point into them", () => {
    const g = layerGraph(TOPO, "l3");
    expect(g.nodes[0]).toMatchObject({ id: "subnet:lan", kind: "subnet", detail: "127.0.0.0/24" });
    const gw = g.edges.find((e) => e.kind === "gateway")!;
    expect([gw.source, gw.target]).toEqual(["gw", "subnet:lan"]);
    expect(g.edges.filter((e) => e.kind === "member")).toHaveLength(3);
  });
});

describe("looks", () => {
  it("colours a node by its worst firing alert, then its state", () => {
    const alerts = worstAlerts([
      { target: "nas", severity: "warning", status: "firing" },
      { target: "nas", severity: "critical", status: "firing" },
      { target: "pc", severity: "critical", status: "pending" },
    ]);
    expect(alerts.get("nas")).toBe("critical");
    expect(alerts.has("pc")).toBe(false);
    expect(nodeClass("up", "critical")).toBe("bad alert");
    expect(nodeClass("up", null)).toBe("ok");
    expect(nodeClass("unreachable", null)).toBe("bad");
  });
  it("draws a link from its port's speed, utilisation and state", () => {
    const m = { "net.speed_bps[p1]": 1e9, "net.util_pct[p1]": 62, "net.oper_up[p1]": 1, "net.oper_up[p2]": 0 };
    const p1 = portState(m, "p1");
    expect(p1).toMatchObject({ speed: 1e9, util: 62, up: true });
    expect(linkStyle(p1).cls).toBe("link-busy");
    expect(linkStyle(portState({ ...m, "net.speed_bps[p3]": 1e10 }, "p3")).width).toBeGreaterThan(linkStyle(p1).width);
    expect(linkStyle(portState(m, "p2")).cls).toBe("link-down");
    expect(linkStyle(null).cls).toBe("link-unknown");
  });
});
