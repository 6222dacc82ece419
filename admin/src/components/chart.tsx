import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: number[];
  color: string;
}

/**
 * A time-series line chart (uPlot: small and fast). The same figures are in a table next to it for
 * screen readers, so the canvas itself is hidden from them.
 */
export function Chart({ times, series, title }: { times: number[]; series: Series[]; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, Math.min(el.clientWidth || 600, 900));
    const plot = new uPlot(
      {
        width,
        height: 220,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
        // Counts: whole-number ticks from zero.
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000, 1_000_000] }],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
      },
      [times, ...series.map((s) => s.values)],
      el,
    );
    return () => plot.destroy();
  }, [times, series]);
  return <div ref={box} className="chart" aria-hidden="true" title={title} />;
}
