import { useEffect, useRef } from "preact/hooks";
import type { Spark } from "./fleet";

interface Props {
  points: Spark;
  max?: number; // fixed top of scale (100 for percentages); default: the largest point
  width?: number;
  height?: number;
}

/** A canvas line of the last hour: cheaper than a chart per cell for 254 rows × 3. */
export function Sparkline({ points, max, width = 72, height = 20 }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext("2d");
    if (!el || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    if (el.width !== width * ratio) {
      el.width = width * ratio;
      el.height = height * ratio;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (points.length < 2) return;
    const t0 = points[0][0];
    const span = points[points.length - 1][0] - t0 || 1;
    const top = max ?? Math.max(...points.map((p) => p[1]), 1e-9);
    ctx.beginPath();
    points.forEach(([t, v], i) => {
      const x = ((t - t0) / span) * (width - 2) + 1;
      const y = height - 1 - (Math.min(v, top) / top) * (height - 2);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = getComputedStyle(el).color;
    ctx.lineWidth = 1.25;
    ctx.stroke();
  }, [points, max, width, height]);
  return <canvas ref={canvas} class="spark" style={{ width: `${width}px`, height: `${height}px` }} />;
}
