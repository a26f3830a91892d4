import { useEffect, useRef, useState } from "preact/hooks";
import { getJSON } from "./api";
import { Chart } from "./Chart";
import { HeatStrip } from "./HeatStrip";
import "./host.css";
import { ago, bytes, dateTime, duration, pct, stateClass } from "./format";
import { getLang, stateText, t } from "./i18n";
import { DevicePage } from "./DevicePage";
import { HostNetwork } from "./HostNetwork";
import { HostControls } from "./lazy";
import { type Family, RANGES, align, families, label, perCore, rangeFrom } from "./series";
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

async function loadFamily(host: string, family: Family, from: string, signal: AbortSignal): Promise<ChartData> {
  const lists = await Promise.all(
    family.series.map((metric) =>
      getJSON<Series>(
        `/api/hosts/${encodeURIComponent(host)}/series?metric=${encodeURIComponent(metric)}&from=${encodeURIComponent(from)}`,
        { signal },
      )
        .then((s) => s.points)
        .catch(() => [] as [number, number][]),
    ),
  );
  return { family, labels: family.series.map(label), data: align(lists) };
}

/** One family's chart; with many cores, the total as a line and the cores as a heat strip. */
function FamilyChart({ chart, spanSeconds }: { chart: ChartData; spanSeconds: number }) {
  const cores = perCore(chart.family);
  if (cores.length === 0)
    return <Chart labels={chart.labels} data={chart.data} unit={chart.family.unit} spanSeconds={spanSeconds} />;
  const index = cores.map((name) => chart.family.series.indexOf(name) + 1);
  const rest = chart.data.filter((_, i) => i === 0 || !index.includes(i));
  const restLabels = chart.labels.filter((_, i) => !index.includes(i + 1));
  return (
    <>
      <Chart labels={restLabels} data={rest} unit={chart.family.unit} spanSeconds={spanSeconds} />
      <HeatStrip
        xs={chart.data[0] as number[]}
        rows={index.map((i) => chart.data[i])}
        labels={cores.map(label)}
        spanSeconds={spanSeconds}
      />
    </>
  );
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
  const refetched = useRef(0); // when the detail was last asked again (see below)

  useEffect(() => {
    setHost(null);
    setError(null);
    refetched.current = 0;
    getJSON<HostDetail>(`/api/hosts/${encodeURIComponent(name)}`)
      .then(setHost)
      .catch((exc: Error) => setError(exc.message));
  }, [name]);

  // Keyed on the host the detail is for: right after a move to another host page, ``host`` is
  // still the previous one (its series names would be asked of the new host: 400s), so wait
  // for the new detail; requests of a page left behind are aborted, their answers dropped.
  const seriesKey = host?.series.join("\u0000") ?? "";
  const detailFor = host?.name ?? null;
  const device = (host?.info as Info | null)?.kind === "snmp"; // a switch or router: DevicePage
  useEffect(() => {
    setCharts(null);
    if (!host || device || detailFor !== name) return;
    const abort = new AbortController();
    Promise.all(families(host.series).map((f) => loadFamily(name, f, rangeFrom(range), abort.signal))).then((loaded) => {
      if (!abort.signal.aborted) setCharts(loaded);
    });
    return () => abort.abort();
  }, [name, detailFor, seriesKey, range.key]);

  // A host shown before it answered (or before its rates had two samples) lacks series:
  // when a live poll carries a metric the detail does not list, ask for the detail again (at
  // most every 10 s), so that new charts appear without a reload.
  useEffect(() => {
    if (!live || live.host !== name || !host || host.name !== name || device) return;
    const known = new Set(host.series);
    if (!Object.keys(live.metrics ?? {}).some((m) => !known.has(m))) return;
    if (Date.now() - refetched.current < 10_000) return;
    refetched.current = Date.now();
    // not aborted by the next event (for any host): a stale answer is dropped by its name
    getJSON<HostDetail>(`/api/hosts/${encodeURIComponent(name)}`)
      .then((detail) =>
        setHost((h) =>
          h && h.name === detail.name && (detail.series.join("\u0000") !== h.series.join("\u0000") || !h.ping !== !detail.ping)
            ? { ...h, series: detail.series, ping: detail.ping }
            : h,
        ),
      )
      .catch(() => {});
  }, [live]);

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
  if (!host || host.name !== name) return <p class="panel">{t("loading")}</p>;
  if (device) return <DevicePage host={host} />;
  const info = (host.info ?? {}) as Info;
  const state = stateClass(host.state);
  const topCpu = (info.top_cpu as Info[] | undefined) ?? [];
  const topMem = (info.top_mem as Info[] | undefined) ?? [];
  const ports = (info.ports as Info[] | undefined) ?? [];
  const uptime = (host.metrics["uptime_s"] as number | undefined) ?? (info.uptime_s as number | undefined);
  // Not answering now: what is shown is the last answer, greyed, with when it came.
  const stale = state !== "ok" && host.state !== "pending";
  const seen = host.metrics_ts ?? null;

  return (
    <section class={`host-page${stale ? " stale" : ""}`}>
      <header class="panel identity">
        <h2>
          {host.name} <span class={`badge ${state}`}>{stateText(host.state)}</span>
        </h2>
        {stale && (
          <p class="last-seen" data-ts={seen ?? ""}>
            {seen == null
              ? t("neverSeen")
              : t("hostLastSeen", { when: dateTime(seen, getLang()), ago: ago(seen, Date.now() / 1000) })}
          </p>
        )}
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
      {/* Commands, actions and tunnels are for inventory hosts over SSH, not SNMP gear. */}
      {operate && host.kind !== "snmp" && host.in_inventory && <HostControls name={host.name} />}
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
        {charts?.length === 0 && <p class="panel muted">{t("noData")}</p>}
        {charts?.map((c) => (
          <figure class="panel" data-family={c.family.key} key={c.family.key}>
            <figcaption>{t(c.family.title)}</figcaption>
            {(c.data[0]?.length ?? 0) === 0 ? <p class="muted">{t("noData")}</p> : <FamilyChart chart={c} spanSeconds={range.seconds} />}
          </figure>
        ))}
      </div>
      <HostNetwork
        name={host.name}
        address={host.ping ? host.address : null /* not pinged yet: no series to ask (404) */}
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
