// The 2D topology map (#/map?layer=l2): /api/topology drawn per layer, laid out by ELK
// (layout.ts, its own chunk), live from /api/live without re-layout. Drag a node to pin it
// (operators; saved by PUT /api/topology/pins), click it to open its page.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { getJSON, postJSON } from "./api";
import { bitRate, pct } from "./format";
import { t } from "./i18n";
import { NODE_H, NODE_W, type Point, benchGraph, layoutGraph, loadElk } from "./layout";
import { connectLive } from "./live";
import {
  type Graph,
  type GraphEdge,
  type GraphNode,
  LAYERS,
  type Layer,
  type Topology,
  layerGraph,
  linkStyle,
  nodeClass,
  portState,
  worstAlerts,
} from "./topology";
import type { Metrics } from "./types";
import "./map.css";

declare global {
  interface Window {
    __mirrorMap?: { layouts: number; layoutMs: number[]; liveApplied: number };
    __mirrorLayout?: { layoutGraph: typeof layoutGraph; benchGraph: (n: number) => Graph };
  }
}

const ALERTS_EVERY_MS = 10_000;
const TOPOLOGY_EVERY_MS = 60_000;

function sameShape(a: Topology, b: Topology): boolean {
  const key = (t: Topology) =>
    JSON.stringify([t.nodes.map((n) => n.id), t.links.map((l) => [l.id, l.sources, l.label]), t.subnets]);
  return key(a) === key(b);
}
const LAYER_LABEL = { physical: "layerPhysical", l2: "layerL2", l3: "layerL3" } as const;

interface Pins {
  layer: string;
  pins: Record<string, [number, number]>;
}

function speed(bps: number | null): string {
  if (bps == null) return "–";
  if (bps >= 1e9) return `${+(bps / 1e9).toFixed(1)} Gbit/s`;
  if (bps >= 1e6) return `${+(bps / 1e6).toFixed(0)} Mbit/s`;
  return `${+(bps / 1e3).toFixed(0)} kbit/s`;
}

/** Latest metrics of each SNMP device, first from the links' counters, then from live events. */
function initialMetrics(topo: Topology): Map<string, Metrics> {
  const out = new Map<string, Metrics>();
  for (const link of topo.links) {
    const u = link.utilisation;
    if (!u) continue;
    const m = out.get(u.node) ?? {};
    const put = (name: string, v: number | null) => {
      if (v != null) m[`${name}[${u.port}]`] = v;
    };
    put("net.rx_bytes_per_s", u.rx_bytes_per_s);
    put("net.tx_bytes_per_s", u.tx_bytes_per_s);
    put("net.util_pct", u.util_pct);
    put("net.speed_bps", u.speed_bps);
    if (u.oper_up != null) m[`net.oper_up[${u.port}]`] = u.oper_up ? 1 : 0;
    out.set(u.node, m);
  }
  return out;
}

function fit(points: Map<string, Point>, width: number, height: number): { x: number; y: number; k: number } {
  if (!points.size) return { x: 0, y: 0, k: 1 };
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of points.values()) {
    x0 = Math.min(x0, p.x - NODE_W / 2);
    y0 = Math.min(y0, p.y - NODE_H / 2);
    x1 = Math.max(x1, p.x + NODE_W / 2);
    y1 = Math.max(y1, p.y + NODE_H / 2);
  }
  const k = Math.min(1.5, (width - 32) / (x1 - x0), (height - 32) / (y1 - y0));
  return { k, x: (width - (x1 - x0) * k) / 2 - x0 * k, y: (height - (y1 - y0) * k) / 2 - y0 * k };
}

const ELBOW = NODE_H / 2 + 18; // below a node: in the gap to the next layer or its hosts

/** A link downwards as an elbow (down, across, down: a switch's hosts hang off one bus),
 * any other as a straight line. */
export function wire(a: Point, b: Point): string {
  if (b.y - a.y < NODE_H * 1.5) return `M${a.x},${a.y}L${b.x},${b.y}`;
  const mid = a.y + ELBOW;
  return `M${a.x},${a.y}V${mid}H${b.x}V${b.y}`;
}

interface Hover {
  x: number;
  y: number;
  lines: string[];
}

export function MapPage({ layer, operate }: { layer: Layer; operate: boolean }) {
  const [topo, setTopo] = useState<Topology | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [laidOut, setPositions] = useState<Map<string, Point> | null>(null);
  const [pins, setPins] = useState<Record<string, [number, number]>>({});
  const [states, setStates] = useState<Map<string, string>>(new Map());
  const [metrics, setMetrics] = useState<Map<string, Metrics>>(new Map());
  const [alerts, setAlerts] = useState<Map<string, "critical" | "warning" | "info">>(new Map());
  const [view, setView] = useState({ x: 0, y: 0, k: 1 });
  const [hover, setHover] = useState<Hover | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [relayout, setRelayout] = useState(0);
  const [laidFor, setLaidFor] = useState(""); // the graph shape the positions belong to
  const box = useRef<HTMLDivElement>(null);
  const drag = useRef<{ id: string | null; sx: number; sy: number; ox: number; oy: number; moved: boolean } | null>(null);

  const graph = useMemo(() => (topo ? layerGraph(topo, layer) : null), [topo, layer]);

  useEffect(() => {
    window.__mirrorLayout = { layoutGraph, benchGraph }; // for bench/ui.py
    window.__mirrorMap ??= { layouts: 0, layoutMs: [], liveApplied: 0 };
    getJSON<Topology>("/api/topology")
      .then((answer) => {
        setTopo(answer);
        setStates(new Map(answer.nodes.map((n) => [n.id, n.state])));
        setMetrics(initialMetrics(answer));
      })
      .catch((exc: Error) => setError(exc.message));
    // New neighbours, cables and hosts (the tables are polled every few minutes): the graph
    // is read again, and laid out again only when its shape changed (the layout effect).
    const refresh = setInterval(() => {
      getJSON<Topology>("/api/topology")
        .then((answer) => setTopo((old) => (old && sameShape(old, answer) ? old : answer)))
        .catch(() => {});
    }, TOPOLOGY_EVERY_MS);
    const stop = connectLive({
      onState: () => {},
      onRefused: () => {},
      onEvents: (events) => {
        setStates((prev) => {
          const next = new Map(prev);
          for (const e of events) if (e.type === "host" && e.state) next.set(e.host, e.state);
          return next;
        });
        setMetrics((prev) => {
          const next = new Map(prev);
          for (const e of events)
            if (e.type === "host" && e.metrics && Object.keys(e.metrics).length)
              next.set(e.host, { ...next.get(e.host), ...e.metrics }); // an event may carry a part
          return next;
        });
        window.__mirrorMap!.liveApplied += events.length;
      },
    });
    const tick = () =>
      getJSON<{ target: string; severity: string; status: string }[]>("/api/alerts?state=active")
        .then((list) => setAlerts(worstAlerts(list)))
        .catch(() => {});
    tick();
    const timer = setInterval(tick, ALERTS_EVERY_MS);
    return () => {
      stop();
      clearInterval(timer);
      clearInterval(refresh);
    };
  }, []);

  // Lay out when the graph's shape or the layer changes: never on a live event.
  const shape = graph ? `${layer}|${graph.nodes.map((n) => n.id).join(",")}|${graph.edges.map((e) => e.id).join(",")}` : "";
  const positions = laidFor === shape ? laidOut : null; // never a layer drawn with another's
  useEffect(() => {
    if (!graph) return;
    let cancelled = false;
    setPositions(null);
    (async () => {
      let saved: Record<string, [number, number]> = {};
      try {
        saved = (await getJSON<Pins>(`/api/topology/pins?layer=${layer}`)).pins;
      } catch {
        // no pins readable: the automatic layout alone
      }
      await loadElk(); // its chunk, the first time: not part of the layout's time
      const started = performance.now();
      const el0 = box.current;
      const aspect = el0 && el0.clientHeight > 0 ? el0.clientWidth / el0.clientHeight : 1.6;
      const laid = await layoutGraph(graph, saved, Math.max(0.5, Math.min(3, aspect)));
      const took = performance.now() - started;
      if (cancelled) return;
      window.__mirrorMap!.layouts += 1;
      window.__mirrorMap!.layoutMs.push(took);
      setPins(saved);
      setPositions(laid);
      setLaidFor(shape);
      const el = box.current;
      setView(fit(laid, el?.clientWidth ?? 800, el?.clientHeight ?? 600));
    })().catch((exc: Error) => setError(exc.message));
    return () => {
      cancelled = true;
    };
  }, [shape, relayout]);

  const savePin = (id: string, p: Point | null) => {
    const body = { layer, pins: { [id]: p ? [Math.round(p.x), Math.round(p.y)] : null } };
    postJSON<Pins>("/api/topology/pins", body, "PUT")
      .then((answer) => {
        setPins(answer.pins);
        setSaveError(null);
      })
      .catch((exc: Error) => setSaveError(exc.message));
  };

  const toGraph = (clientX: number, clientY: number): Point => {
    const rect = box.current!.getBoundingClientRect();
    return { x: (clientX - rect.left - view.x) / view.k, y: (clientY - rect.top - view.y) / view.k };
  };

  const onDown = (ev: PointerEvent, id: string | null) => {
    ev.stopPropagation();
    (ev.currentTarget as Element).setPointerCapture?.(ev.pointerId);
    const p = id ? positions?.get(id) : null;
    drag.current = { id, sx: ev.clientX, sy: ev.clientY, ox: p ? p.x : view.x, oy: p ? p.y : view.y, moved: false };
  };
  const onMove = (ev: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    const dx = ev.clientX - d.sx;
    const dy = ev.clientY - d.sy;
    if (!d.moved && Math.hypot(dx, dy) < 4) return;
    d.moved = true;
    if (d.id === null) {
      setView((v) => ({ ...v, x: d.ox + dx, y: d.oy + dy }));
    } else if (operate && positions) {
      const next = new Map(positions);
      next.set(d.id, { x: d.ox + dx / view.k, y: d.oy + dy / view.k });
      setPositions(next);
    }
  };
  const onUp = (node: GraphNode | null) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.id === null || !node) return;
    if (d.moved && operate) {
      savePin(d.id, positions?.get(d.id) ?? null);
    } else if (!d.moved) {
      openNode(node);
    }
  };
  const onWheel = (ev: WheelEvent) => {
    ev.preventDefault();
    const at = toGraph(ev.clientX, ev.clientY);
    const rect = box.current!.getBoundingClientRect();
    const k = Math.max(0.1, Math.min(4, view.k * Math.exp(-ev.deltaY / 500)));
    setView({ k, x: ev.clientX - rect.left - at.x * k, y: ev.clientY - rect.top - at.y * k });
  };

  /** Zoom about the box's centre (the buttons: a phone has no wheel). */
  const zoomBy = (factor: number) => {
    const el = box.current;
    if (!el) return;
    const [cx, cy] = [el.clientWidth / 2, el.clientHeight / 2];
    setView((v) => {
      const k = Math.max(0.1, Math.min(4, v.k * factor));
      return { k, x: cx - ((cx - v.x) / v.k) * k, y: cy - ((cy - v.y) / v.k) * k };
    });
  };
  const openNode = (node: GraphNode) => {
    if (node.kind === "host" || node.kind === "snmp") location.hash = `#/host/${encodeURIComponent(node.id)}`;
  };

  const edgeLines = (e: GraphEdge): string[] => {
    const lines = [`${e.source}${e.sourcePort ? `:${e.sourcePort}` : ""} — ${e.target}${e.targetPort ? `:${e.targetPort}` : ""}`];
    if (e.label) lines.push(e.label);
    lines.push(`${t("mapSource")}: ${e.kind}`);
    if (e.counters) {
      const p = portState(metrics.get(e.counters.node), e.counters.port);
      lines.push(`${e.counters.node}:${e.counters.port} · ${p.up === false ? t("portDown") : p.up ? t("portUp") : "–"} · ${speed(p.speed)}`);
      lines.push(`${t("rateIn")} ${bitRate(p.rx)} · ${t("rateOut")} ${bitRate(p.tx)} · ${pct(p.util)}`);
    }
    return lines;
  };
  const nodeLines = (n: GraphNode): string[] => {
    const lines = [n.label, n.kind === "subnet" ? (n.detail ?? "") : `${n.kind} · ${states.get(n.id) ?? n.state}`];
    if (n.address) lines.push(n.address);
    const a = alerts.get(n.id);
    if (a) lines.push(`${t("navAlerts")}: ${a}`);
    const ports = graph?.edges.filter((e) => e.source === n.id || e.target === n.id) ?? [];
    for (const e of ports.slice(0, 8)) {
      const mine = e.source === n.id;
      const [port, other, otherPort] = mine ? [e.sourcePort, e.target, e.targetPort] : [e.targetPort, e.source, e.sourcePort];
      let line = `${port ?? "·"} → ${other}${otherPort ? `:${otherPort}` : ""}`;
      if (e.counters) {
        const p = portState(metrics.get(e.counters.node), e.counters.port);
        line += ` · ${p.up === false ? t("portDown") : speed(p.speed)} · ${t("rateIn")} ${bitRate(p.rx)} ${t("rateOut")} ${bitRate(p.tx)}`;
      }
      lines.push(line);
    }
    if (ports.length > 8) lines.push(`+${ports.length - 8}`);
    if (pins[n.id]) lines.push(t("mapPinned"));
    return lines;
  };
  const showHover = (ev: MouseEvent, lines: string[]) => {
    const rect = box.current!.getBoundingClientRect();
    setHover({ x: ev.clientX - rect.left + 12, y: ev.clientY - rect.top + 12, lines });
  };

  if (error) return <p class="error panel">{error}</p>;
  return (
    <section class="map-page">
      <div class="map-bar panel">
        <div class="ranges" role="group" aria-label={t("mapLayer")}>
          {LAYERS.map((l) => (
            <a class={`button ${l === layer ? "on" : ""}`} data-layer={l} href={`#/map?layer=${l}`} key={l}>
              {t(LAYER_LABEL[l])}
            </a>
          ))}
        </div>
        <button class="ghost" id="map-fit" onClick={() => positions && box.current && setView(fit(positions, box.current.clientWidth, box.current.clientHeight))}>
          {t("mapFit")}
        </button>
        <button class="ghost" id="map-zoom-in" aria-label="+" onClick={() => zoomBy(1.25)}>
          +
        </button>
        <button class="ghost" id="map-zoom-out" aria-label="−" onClick={() => zoomBy(0.8)}>
          −
        </button>
        {operate && Object.keys(pins).length > 0 && (
          <button
            class="ghost"
            id="map-unpin"
            onClick={() => {
              const body = { layer, pins: Object.fromEntries(Object.keys(pins).map((id) => [id, null])) };
              postJSON<Pins>("/api/topology/pins", body, "PUT").then(() => setRelayout((n) => n + 1));
            }}
          >
            {t("mapUnpinAll")}
          </button>
        )}
        <small class="muted">{operate ? t("mapHintOperate") : t("mapHint")}</small>
        {saveError && <small class="bad">{saveError}</small>}
      </div>
      <div class="map-box panel" ref={box} onPointerMove={onMove} onPointerUp={() => onUp(null)} onWheel={onWheel}>
        {!positions && <p class="muted map-wait">{t("loading")}</p>}
        {positions && graph && graph.nodes.length === 0 && <p class="muted map-wait">{layer === "physical" ? t("mapNoCables") : t("noData")}</p>}
        {positions && graph && (
          <svg id="map" data-layer={layer} data-nodes={graph.nodes.length} data-edges={graph.edges.length} onPointerDown={(ev) => onDown(ev as PointerEvent, null)}>
            <g transform={`translate(${view.x},${view.y}) scale(${view.k})`}>
              {graph.edges.map((e) => {
                const a = positions.get(e.source);
                const b = positions.get(e.target);
                if (!a || !b) return null;
                const p = e.counters ? portState(metrics.get(e.counters.node), e.counters.port) : null;
                const style = e.kind === "member" || e.kind === "gateway" ? { width: 1.5, cls: `link-${e.kind}` } : linkStyle(p);
                return (
                  <g class={`edge ${style.cls}`} data-edge={e.id} key={e.id} onMouseMove={(ev) => showHover(ev as MouseEvent, edgeLines(e))} onMouseLeave={() => setHover(null)}>
                    <path class="hit" d={wire(a, b)} />
                    <path class="wire" d={wire(a, b)} stroke-width={style.width} />
                    {e.label && layer !== "l2" && (
                      <text class="edge-label" x={(a.x + b.x) / 2 + 6} y={(a.y + b.y) / 2}>
                        {e.label.length > 22 ? `${e.label.slice(0, 21)}…` : e.label}
                      </text>
                    )}
                  </g>
                );
              })}
              {graph.nodes.map((n) => {
                const p = positions.get(n.id);
                if (!p) return null;
                const state = states.get(n.id) ?? n.state;
                return (
                  <g
                    class={`node ${n.kind} ${nodeClass(state, alerts.get(n.id) ?? null)} ${pins[n.id] ? "pinned" : ""}`}
                    data-node={n.id}
                    data-state={state}
                    key={n.id}
                    transform={`translate(${p.x - NODE_W / 2},${p.y - NODE_H / 2})`}
                    onPointerDown={(ev) => onDown(ev as PointerEvent, n.id)}
                    onPointerUp={(ev) => {
                      ev.stopPropagation();
                      onUp(n);
                    }}
                    onMouseMove={(ev) => showHover(ev as MouseEvent, nodeLines(n))}
                    onMouseLeave={() => setHover(null)}
                    tabindex={n.kind === "host" || n.kind === "snmp" ? 0 : undefined}
                    role={n.kind === "host" || n.kind === "snmp" ? "link" : undefined}
                    aria-label={n.label}
                    onKeyDown={(ev) => ev.key === "Enter" && openNode(n)}
                  >
                    <rect width={NODE_W} height={NODE_H} rx={n.kind === "subnet" ? 20 : 6} />
                    <text x={10} y={17}>
                      {n.label.length > 17 ? `${n.label.slice(0, 16)}…` : n.label}
                    </text>
                    <text class="sub" x={10} y={32}>
                      {n.kind === "subnet" ? n.detail : (n.address ?? n.kind)}
                    </text>
                  </g>
                );
              })}
            </g>
          </svg>
        )}
        {hover && (
          <div class="map-tip" id="map-tip" style={{ left: `${hover.x}px`, top: `${hover.y}px` }}>
            {hover.lines.map((l, i) => (
              <div key={i}>{l}</div>
            ))}
          </div>
        )}
      </div>
    </section>
  );
}
