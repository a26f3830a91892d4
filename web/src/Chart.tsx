import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { axisTime, bitRate, bytes, celsius, dateTime, ms, num } from "./format";
import { getLang, t } from "./i18n";
import { type Unit, latest, xRange } from "./series";

const PALETTE = ["#38bdf8", "#a78bfa", "#34d399", "#fbbf24", "#f472b6", "#f87171", "#22d3ee", "#c084fc", "#4ade80", "#fb923c"];

function formatter(unit: Unit): (v: number) => string {
  if (unit === "pct") return (v) => `${num(v, 0)}%`;
  if (unit === "rate") return (v) => bytes(v, "/s");
  if (unit === "bits") return (v) => bitRate(v);
  if (unit === "celsius") return (v) => celsius(v);
  if (unit === "ms") return (v) => (v > 0 && v < 0.1 ? `${+v.toPrecision(2)} ms` : ms(v)); // loopback: µs
  return (v) => num(v, 2);
}

interface Props {
  labels: string[];
  data: (number | null)[][];
  unit: Unit;
  spanSeconds: number;
}

/** One uPlot chart; drag to zoom (x), double-click to reset — uPlot's own gestures. */
export function Chart({ labels, data, unit, spanSeconds }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = formatter(unit);
    const lang = getLang();
    const opts: uPlot.Options = {
      width: el.clientWidth || 400,
      height: 180,
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      scales: {
        x: {
          time: true,
          // From the data itself: for a lone point uPlot passes its own padding (t + 86400 / ms,
          // years on a seconds axis) as the max.
          range: (u, min, max) => {
            const xs = u.data[0] as number[];
            return xs.length ? xRange(xs[0], xs[xs.length - 1], spanSeconds) : [min, max];
          },
        },
        y: unit === "pct" ? { range: [0, 100] } : { auto: true } },
      axes: [
        {
          stroke: "#7d8aa5",
          grid: { stroke: "#1c2538" },
          ticks: { stroke: "#1c2538" },
          // 24-hour times in the UI's language (uPlot's own labels are US: "4:55pm", "12/5/26")
          space: 64, // "17:15:00" needs more room than uPlot's default 50 px on a phone
          values: (_u, splits, _axis, _space, step) => splits.map((s) => axisTime(s, step, lang)),
        },
        {
          stroke: "#7d8aa5",
          grid: { stroke: "#1c2538" },
          ticks: { stroke: "#1c2538" },
          size: 84,
          values: (_u, splits) => splits.map(fmt),
        },
      ],
      series: [
        {
          label: t("time"),
          value: (u: uPlot, v: number | null, _sidx: number, idx: number | null) =>
            dateTime(idx == null ? latest(u.data[0] as number[]) : v, lang),
        },
        ...labels.map((label, i) => ({
          label: label === "total" ? t("total") : label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: false,
          // With the cursor away (idx null) the legend shows the newest value, not "–".
          value: (u: uPlot, v: number | null, sidx: number, idx: number | null) => {
            const shown = idx == null ? latest(u.data[sidx] as (number | null)[]) : v;
            return shown == null ? "–" : fmt(shown);
          },
        })),
      ],
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    (el as HTMLDivElement & { __uplot?: uPlot }).__uplot = u; // for the browser tests
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // A new set of series (or unit) makes a new chart; new data only calls setData below.
  }, [labels.join("\u0000"), unit, spanSeconds, getLang()]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div class="chart" ref={box} />;
}
