import { useEffect, useState } from "preact/hooks";
import { getJSON } from "./api";
import { Chart } from "./Chart";
import { bytes, duration, pct, stateClass } from "./format";
import { t } from "./i18n";
import { DevicePage } from "./DevicePage";
import { HostNetwork } from "./HostNetwork";
import { HostControls } from "./lazy";
import { type Family, RANGES, align, families, label, rangeFrom } from "./series";
import type { HostDetail, LiveEvent, Series } from "./types";

const LIVE_APPEND_MAX_S = 6 * 3600; // longer ranges come from rollups: a 5 s point adds nothing

interface ChartData {
  family: Family;
  labels: string[];
  data: (number | null)[][];
}

type Info = Record<string, unknown>;

function text(value: unknown): string {
  return value == null || value === "" ? "–" : String(value);
}

async function loadFamily(host: string, family: Family, from: string): Promise<ChartData> {
  const lists = await Promise.all(
    family.series.map((metric) =>
      getJSON<Series>(
        `/api/hosts/${encodeURIComponent(host)}/series?metric=${encodeURIComponent(metric)}&from=${encodeURIComponent(from)}`,
      )
        .then((s) => s.points)
        .catch(() => [] as [number, number][]),
    ),
  );
  return { family, labels: family.series.map(label), data: align(lists) };
}

function appendLive(chart: ChartData, event: LiveEvent): ChartData {
  const metrics = event.metrics ?? {};
  const ts = event.ts;
  const xs = chart.data[0] as number[];
  if (ts == null || !chart.family.series.some((s) => s in metrics)) return chart;
  if (xs.length && ts <= xs[xs.length - 1]) return chart;
  const data = chart.data.map((col, i) => [...col, i === 0 ? ts : (metrics[chart.family.series[i - 1]] ?? null)]);
  return { ...chart, data };
}

function Table({ rows, columns }: { rows: Info[]; columns: [string, string, (v: unknown) => string][] }) {
  return (
    <table class="small">
      <thead>
        <tr>
          {columns.map(([, title]) => (
            <th>{title}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr>
            {columns.map(([key, , fmt]) => (
              <td>{fmt(row[key])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function HostPage({ name, live, operate = false }: { name: string; live: LiveEvent | null; operate?: boolean }) {
  const [host, setHost] = useState<HostDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rangeKey, setRangeKey] = useState("1h");
  const [charts, setCharts] = useState<ChartData[] | null>(null);
  const range = RANGES.find((r) => r.key === rangeKey) ?? RANGES[1];

  useEffect(() => {
    setHost(null);
    setError(null);
    getJSON<HostDetail>(`/api/hosts/${encodeURIComponent(name)}`)
      .then(setHost)
      .catch((exc: Error) => setError(exc.message));
  }, [name]);

  const seriesKey = host?.series.join("\u0000") ?? "";
  const device = (host?.info as Info | null)?.kind === "snmp"; // a switch or router: DevicePage
  useEffect(() => {
    if (!host || device) return;
    let cancelled = false;
    setCharts(null);
    Promise.all(families(host.series).map((f) => loadFamily(name, f, rangeFrom(range)))).then((loaded) => {
      if (!cancelled) setCharts(loaded);
    });
    return () => {
      cancelled = true;
    };
  }, [name, seriesKey, range.key]);

  useEffect(() => {
    if (!live || live.host !== name) return;
    setHost((h) =>
      h && {
        ...h,
        state: live.state ?? h.state,
        error: live.error === undefined ? h.error : live.error,
        ts: live.ts ?? h.ts,
        metrics: live.metrics && Object.keys(live.metrics).length ? live.metrics : h.metrics,
        info: live.info ?? h.info,
      },
    );
    if (range.seconds <= LIVE_APPEND_MAX_S) setCharts((c) => c && c.map((chart) => appendLive(chart, live)));
  }, [live]);

  if (error) return <p class="error panel">{error}</p>;
  if (!host) return <p class="panel">{t("loading")}</p>;
  if (device) return <DevicePage host={host} />;
  const info = (host.info ?? {}) as Info;
  const state = stateClass(host.state);
  const topCpu = (info.top_cpu as Info[] | undefined) ?? [];
  const topMem = (info.top_mem as Info[] | undefined) ?? [];
  const ports = (info.ports as Info[] | undefined) ?? [];
  const uptime = (host.metrics["uptime_s"] as number | undefined) ?? (info.uptime_s as number | undefined);

  return (
    <section class="host-page">
      <header class="panel identity">
        <h2>
          {host.name} <span class={`badge ${state}`}>{host.state}</span>
        </h2>
        <dl>
          <dt>{t("addresses")}</dt>
          <dd>{text(host.address)}</dd>
          <dt>{t("os")}</dt>
          <dd>{text(info.os)}</dd>
          <dt>{t("kernel")}</dt>
          <dd>{text(info.kernel)}</dd>
          <dt>{t("cpuModel")}</dt>
          <dd>
            {text(info.cpu_model)}
            {info.cpu_count ? ` × ${String(info.cpu_count)}` : ""}
          </dd>
          <dt>{t("uptime")}</dt>
          <dd>{duration(uptime)}</dd>
          <dt>{t("cpu")}</dt>
          <dd>{pct(host.metrics["cpu.busy_pct"])}</dd>
          <dt>{t("memory")}</dt>
          <dd>{pct(host.metrics["mem.used_pct"])}</dd>
          {host.error && (
            <>
              <dt>{t("lastError")}</dt>
              <dd class="bad">{host.error}</dd>
            </>
          )}
        </dl>
      </header>
      {operate && <HostControls name={host.name} />}
      <div class="ranges" role="group" aria-label={t("range")}>
        {RANGES.map((r) => (
          <button class={r.key === range.key ? "on" : ""} data-range={r.key} onClick={() => setRangeKey(r.key)}>
            {r.key}
          </button>
        ))}
        <small>{t("zoomHint")}</small>
      </div>
      <div class="charts">
        {charts === null && <p class="panel">{t("loading")}</p>}
        {charts?.map((c) => (
          <figure class="panel" data-family={c.family.key} key={c.family.key}>
            <figcaption>{t(c.family.title)}</figcaption>
            {(c.data[0]?.length ?? 0) === 0 ? (
              <p class="muted">{t("noData")}</p>
            ) : (
              <Chart labels={c.labels} data={c.data} unit={c.family.unit} spanSeconds={range.seconds} />
            )}
          </figure>
        ))}
      </div>
      <HostNetwork
        name={host.name}
        address={host.address}
        mac={host.mac}
        operate={operate}
        from={rangeFrom(range)}
        spanSeconds={range.seconds}
      />
      <div class="tables">
        {topCpu.length > 0 && (
          <div class="panel">
            <h3>{t("topCpu")}</h3>
            <Table
              rows={topCpu}
              columns={[
                ["pid", "PID", text],
                ["name", t("process"), text],
                ["cpu_pct", "CPU", (v) => pct(v as number)],
                ["rss_bytes", "RSS", (v) => bytes(v as number)],
              ]}
            />
          </div>
        )}
        {topMem.length > 0 && (
          <div class="panel">
            <h3>{t("topMem")}</h3>
            <Table
              rows={topMem}
              columns={[
                ["pid", "PID", text],
                ["name", t("process"), text],
                ["rss_bytes", "RSS", (v) => bytes(v as number)],
                ["cpu_pct", "CPU", (v) => pct(v as number)],
              ]}
            />
          </div>
        )}
        {ports.length > 0 && (
          <div class="panel">
            <h3>{t("ports")}</h3>
            <Table
              rows={ports}
              columns={Object.keys(ports[0])
                .slice(0, 8)
                .map((k) => [k, k, text] as [string, string, (v: unknown) => string])}
            />
          </div>
        )}
      </div>
    </section>
  );
}
