import { useEffect, useRef } from "preact/hooks";
import { pct } from "./format";
import { t } from "./i18n";
import { busiest, xRange } from "./series";

const ROW_PX = 6;

/** 0 % dark blue → 50 % amber → 100 % red, readable on the dark theme. */
export function heatColour(value: number): string {
  const v = Math.max(0, Math.min(100, value)) / 100;
  const hue = 220 - 220 * v;
  return `hsl(${hue.toFixed(0)} 85% ${(30 + 28 * v).toFixed(0)}%)`;
}

interface Props {
  xs: number[];
  rows: (number | null)[][]; // one per core, aligned with xs
  labels: string[];
  spanSeconds: number;
}

/** Per-core CPU as a heat strip: one row per core, time left to right, colour = busy %. */
export function HeatStrip({ xs, rows, labels, spanSeconds }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const draw = () => {
      const width = el.clientWidth || 400;
      const height = rows.length * ROW_PX;
      const ratio = window.devicePixelRatio || 1;
      el.width = Math.round(width * ratio);
      el.height = Math.round(height * ratio);
      const ctx = el.getContext("2d");
      if (!ctx || xs.length === 0) return;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      const [lo, hi] = xRange(xs[0], xs[xs.length - 1], spanSeconds);
      const x = (ts: number) => ((ts - lo) / (hi - lo || 1)) * width;
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] < lo) continue;
        const left = x(xs[i]);
        const right = i + 1 < xs.length ? x(xs[i + 1]) : width;
        rows.forEach((row, r) => {
          const v = row[i];
          if (v == null) return;
          ctx.fillStyle = heatColour(v);
          ctx.fillRect(left, r * ROW_PX, Math.max(1, right - left + 0.5), ROW_PX - 1);
        });
      }
    };
    draw();
    const resize = new ResizeObserver(draw);
    resize.observe(el);
    return () => resize.disconnect();
  }, [xs, rows, spanSeconds]);

  const top = busiest(rows, 3);
  return (
    <div class="heat">
      <canvas
        class="heat-strip"
        ref={canvas}
        style={{ height: `${rows.length * ROW_PX}px` }}
        role="img"
        aria-label={t("cpuHeat", { n: rows.length })}
      />
      <div class="heat-scale">
        <span>{labels[0]}</span>
        <span>{t("cpuHeat", { n: rows.length })}</span>
        <span>{labels[labels.length - 1]}</span>
      </div>
      <p class="busiest">
        {t("busiestCores")}:{" "}
        {top.map(([i, v]) => (
          <span class="core" key={labels[i]}>
            <i style={{ background: heatColour(v) }} /> {labels[i]} {pct(v, 0)}
          </span>
        ))}
      </p>
    </div>
  );
}
