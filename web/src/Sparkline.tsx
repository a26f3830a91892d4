import { useMemo } from "preact/hooks";
import { type Spark, sparkPath } from "./fleet";

interface Props {
  points: Spark;
  max?: number; // fixed top of scale (100 for percentages); default: the largest point
  width?: number;
  height?: number;
}

/**
 * A line of the last hour as an inline SVG path. Not a canvas: Chromium gives every canvas its
 * own compositing layer, and 254 rows × 3 canvases made each frame's paint and composite cost
 * more than everything else together (bench/ui.py). A path is painted with the row.
 */
export function Sparkline({ points, max, width = 72, height = 20 }: Props) {
  const d = useMemo(() => sparkPath(points, width, height, max), [points, max, width, height]);
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      {d && <path d={d} />}
    </svg>
  );
}
