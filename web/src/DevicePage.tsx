// The page of an SNMP device (switch, router): identity, a front panel of its ports, the port
// table (state, speed, rates, errors, alias, VLANs, LLDP neighbour, hosts learnt there) and
// charts of the ports picked in the table or the panel. No terminal, run or actions: EGO
// has no SSH to such a device. Shown by HostPage for a host whose info.kind is "snmp".

import { useEffect, useMemo, useState } from "preact/hooks";
import { getJSON } from "./api";
import { Chart } from "./Chart";
import { bitRate, celsius, duration, num, pct, stateClass } from "./format";
import { stateText, t } from "./i18n";
import { align } from "./series";
import { type Topology, portState } from "./topology";
import type { HostDetail, Series } from "./types";
import "./map.css";

type Info = Record<string, unknown>;
const MAX_PICKED = 4;
const CHART_FROM = "-1h";

interface Iface {
  index: number;
  name: string;
  descr: string | null;
  alias: string | null;
  type: number | null;
  mac: string | null;
  admin_up: boolean | null;
  oper: string | null;
  speed_bps: number | null;
}

interface Neighbour {
  local_port: string;
  sys_name: string | null;
  port_id: string | null;
  port_descr: string | null;
  chassis_id: string | null;
}

export interface PortRow {
  name: string;
  alias: string | null;
  adminUp: boolean | null;
  up: boolean | null;
  speed: number | null;
  rx: number | null;
  tx: number | null;
  util: number | null;
  errors: number | null; // in + out errors per second
  vlans: number[];
  macs: number;
  neighbour: string | null;
  hosts: string[];
}

const ETHERNET_LIKE = new Set([6, 62, 69, 117, 161]); // ethernetCsmacd, fast/gigabit, ieee8023adLag

function text(value: unknown): string {
  return value == null || value === "" ? "–" : String(value);
}

/** One row per interface, from the device's info, its latest metrics and the topology. */
export function portRows(name: string, info: Info, metrics: Record<string, number>, topo: Topology | null): PortRow[] {
  const ifaces = (info.interfaces as Iface[] | undefined) ?? [];
  const fdb = (info.fdb as { mac: string; port: string; vlan: number | null }[] | undefined) ?? [];
  const lldp = ((info.lldp as { neighbours?: Neighbour[] } | undefined)?.neighbours ?? []) as Neighbour[];
  const hosts = new Map<string, string[]>();
  for (const link of topo?.links ?? [])
    for (const [here, there] of [
      [link.a, link.b],
      [link.b, link.a],
    ])
      if (here.node === name && here.port) hosts.set(here.port, [...(hosts.get(here.port) ?? []), there.node]);
  return ifaces
    .filter((i) => i.type == null || ETHERNET_LIKE.has(i.type) || hosts.has(i.name))
    .map((i) => {
      const p = portState(metrics, i.name);
      const err = ["net.rx_errors_per_s", "net.tx_errors_per_s"].map((m) => metrics[`${m}[${i.name}]`]);
      const n = lldp.find((x) => x.local_port === i.name);
      const learnt = fdb.filter((e) => e.port === i.name);
      return {
        name: i.name,
        alias: i.alias || null,
        adminUp: i.admin_up,
        up: p.up ?? (i.oper == null ? null : i.oper === "up"),
        speed: p.speed ?? i.speed_bps,
        rx: p.rx,
        tx: p.tx,
        util: p.util,
        errors: err.every((v) => v == null) ? null : err.reduce((s: number, v) => s + (v ?? 0), 0),
        vlans: [...new Set(learnt.map((e) => e.vlan).filter((v): v is number => v != null))].sort((a, b) => a - b),
        macs: learnt.length,
        neighbour: n ? `${n.sys_name ?? n.chassis_id ?? "?"}${n.port_id ? ` (${n.port_descr ?? n.port_id})` : ""}` : null,
        hosts: hosts.get(i.name) ?? [],
      };
    });
}

function portClass(p: PortRow): string {
  if (p.adminUp === false) return "admin-down";
  if (!p.up) return "down";
  const u = p.util ?? 0;
  return u >= 80 ? "hot" : u >= 50 ? "busy" : u >= 1 ? "used" : "up";
}

function speed(bps: number | null): string {
  if (!bps) return "–";
  return bps >= 1e9 ? `${+(bps / 1e9).toFixed(1)}G` : `${+(bps / 1e6).toFixed(0)}M`;
}

interface PortChart {
  labels: string[];
  data: (number | null)[][];
}

async function loadPorts(host: string, ports: string[]): Promise<PortChart> {
  const series = ports.flatMap((p) => [`net.rx_bytes_per_s[${p}]`, `net.tx_bytes_per_s[${p}]`]);
  const lists = await Promise.all(
    series.map((metric) =>
      getJSON<Series>(`/api/hosts/${encodeURIComponent(host)}/series?metric=${encodeURIComponent(metric)}&from=${CHART_FROM}`)
        .then((s) => s.points)
        .catch(() => [] as [number, number][]),
    ),
  );
  return { labels: ports.flatMap((p) => [`${p} ${t("rateIn")}`, `${p} ${t("rateOut")}`]), data: align(lists) };
}

export function DevicePage({ host }: { host: HostDetail }) {
  const info = (host.info ?? {}) as Info;
  const system = (info.system ?? {}) as Info;
  const entity = (info.entity ?? null) as Info | null;
  const [topo, setTopo] = useState<Topology | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [chart, setChart] = useState<PortChart | null>(null);

  useEffect(() => {
    getJSON<Topology>("/api/topology")
      .then(setTopo)
      .catch(() => setTopo(null));
  }, [host.name]);

  const rows = useMemo(() => portRows(host.name, info, host.metrics, topo), [host.info, host.metrics, topo]);
  const sensors = Object.entries(host.metrics).filter(([k]) => /^(temp|fan|power)\./.test(k));

  useEffect(() => {
    if (!picked.length) {
      setChart(null);
      return;
    }
    let alive = true;
    loadPorts(host.name, picked).then((c) => alive && setChart(c));
    return () => {
      alive = false;
    };
  }, [host.name, picked.join("\u0000")]);

  // Live: each poll of the device adds a point to the picked ports' chart.
  useEffect(() => {
    const ts = host.ts;
    setChart((c) => {
      if (!c || ts == null || !picked.length) return c;
      const xs = c.data[0] as number[];
      if (xs.length && ts <= xs[xs.length - 1]) return c;
      const names = picked.flatMap((p) => [`net.rx_bytes_per_s[${p}]`, `net.tx_bytes_per_s[${p}]`]);
      if (c.data.length !== names.length + 1) return c;
      return { ...c, data: c.data.map((col, i) => [...col, i === 0 ? ts : (host.metrics[names[i - 1]] ?? null)]) };
    });
  }, [host.ts]);

  const toggle = (port: string) =>
    setPicked((now) => (now.includes(port) ? now.filter((p) => p !== port) : [...now, port].slice(-MAX_PICKED)));
  const uptime = host.metrics["uptime_seconds"] ?? (system.uptime_s as number | undefined);
  const up = rows.filter((r) => r.up).length;

  return (
    <section class="device-page">
      <header class="panel identity">
        <h2>
          {host.name} <span class={`badge ${stateClass(host.state)}`}>{stateText(host.state)}</span> <small>SNMP</small>
        </h2>
        <dl>
          <dt>{t("addresses")}</dt>
          <dd>{text(host.address)}</dd>
          <dt>{t("deviceDescr")}</dt>
          <dd id="device-descr">{text(system.descr)}</dd>
          <dt>{t("deviceModel")}</dt>
          <dd id="device-model">
            {text(entity?.vendor)} {text(entity?.model)}
          </dd>
          <dt>{t("deviceSerial")}</dt>
          <dd id="device-serial">{text(entity?.serial)}</dd>
          <dt>{t("deviceFirmware")}</dt>
          <dd>{text(entity?.software_rev ?? entity?.firmware_rev)}</dd>
          <dt>{t("uptime")}</dt>
          <dd>{duration(uptime)}</dd>
          <dt>{t("deviceLocation")}</dt>
          <dd>{text(system.location)}</dd>
          <dt>{t("ports")}</dt>
          <dd>
            {up} / {rows.length} {t("portUp")}
          </dd>
          {host.error && (
            <>
              <dt>{t("lastError")}</dt>
              <dd class="bad">{host.error}</dd>
            </>
          )}
        </dl>
      </header>
      <div class="panel">
        <h3>{t("frontPanel")}</h3>
        <div class="port-grid" id="port-grid">
          {rows.map((p, i) => (
            <button
              key={p.name}
              class={`${portClass(p)} ${picked.includes(p.name) ? "picked" : ""}`}
              data-port={p.name}
              title={`${p.name}${p.alias ? ` · ${p.alias}` : ""} · ${p.up ? t("portUp") : t("portDown")} · ${speed(p.speed)} · ${pct(p.util)}`}
              onClick={() => toggle(p.name)}
            >
              {i + 1}
            </button>
          ))}
        </div>
        <small>{t("pickPorts")}</small>
      </div>
      {picked.length > 0 && (
        <figure class="panel" id="port-chart">
          <figcaption>
            {t("portTraffic")}: {picked.join(", ")}
          </figcaption>
          {chart && (chart.data[0]?.length ?? 0) > 0 ? (
            <Chart labels={chart.labels} data={chart.data} unit="rate" spanSeconds={3600} />
          ) : (
            <p class="muted">{chart ? t("noData") : t("loading")}</p>
          )}
        </figure>
      )}
      <div class="panel scroll-x">
        <h3>{t("ports")}</h3>
        <table class="small ports" id="port-table">
          <thead>
            <tr>
              <th>{t("port")}</th>
              <th>{t("state")}</th>
              <th>{t("speed")}</th>
              <th>{t("rateIn")}</th>
              <th>{t("rateOut")}</th>
              <th>{t("utilisation")}</th>
              <th>{t("errors")}</th>
              <th>{t("alias")}</th>
              <th>VLAN</th>
              <th>{t("lldpNeighbour")}</th>
              <th>{t("learntHosts")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.name} data-port={p.name} class={picked.includes(p.name) ? "picked" : ""} onClick={() => toggle(p.name)}>
                <td>{p.name}</td>
                <td class={p.adminUp === false ? "idle" : p.up ? "ok" : "bad"}>
                  {p.adminUp === false ? t("adminDown") : p.up ? t("portUp") : t("portDown")}
                </td>
                <td>{speed(p.speed)}</td>
                <td>{bitRate(p.rx)}</td>
                <td>{bitRate(p.tx)}</td>
                <td>{pct(p.util)}</td>
                <td class={p.errors ? "warn" : ""}>{p.errors == null ? "–" : `${num(p.errors, 2)}/s`}</td>
                <td>{text(p.alias)}</td>
                <td>{p.vlans.length ? p.vlans.join(", ") : "–"}</td>
                <td>{text(p.neighbour)}</td>
                <td>
                  {p.hosts.map((h) => (
                    <a key={h} href={`#/host/${encodeURIComponent(h)}`} onClick={(ev) => ev.stopPropagation()}>
                      {h}{" "}
                    </a>
                  ))}
                  {p.macs > p.hosts.length && <small>{t("macCount", { n: p.macs })}</small>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sensors.length > 0 && (
        <div class="panel">
          <h3>{t("sensors")}</h3>
          <table class="small" id="sensors">
            <tbody>
              {sensors.map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td>{k.startsWith("temp.") ? celsius(v) : num(v, 1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
