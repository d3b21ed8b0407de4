import { useEffect, useMemo, useRef, type KeyboardEvent } from "react";
import uPlot from "uplot";
import type { Verdict } from "../api/types";
import { formatScore, formatTimestamp } from "../lib/format";
import { SERIES_COLORS, cssVar, useThemeName } from "../lib/theme";
import { nearestIndex, noFaceText, readoutAt, type Timeline } from "../lib/timeline";

const CHART_HEIGHT_PX = 220;

interface Props {
  timeline: Timeline;
  durationS: number | null;
  currentTime: number;
  thresholds?: Verdict["thresholds"];
  onSeek: (timeS: number) => void;
}

/**
 * Scores over video time. Clicking seeks the video to the nearest sampled frame; the video's
 * position is drawn as a vertical cursor. Arrow keys step through sampled frames.
 */
export function ScoreTimeline({ timeline, durationS, currentTime, thresholds, onSeek }: Props) {
  const containerRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const cursorRef = useRef(currentTime);
  const onSeekRef = useRef(onSeek);
  onSeekRef.current = onSeek;
  const theme = useThemeName();

  const data = useMemo<uPlot.AlignedData>(
    () => [timeline.times, ...timeline.series.map((s) => s.values)] as uPlot.AlignedData,
    [timeline],
  );

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    const text = cssVar("--text-muted", "#9aa4b2");
    const grid = cssVar("--border", "#333");
    const cursorColor = cssVar("--accent", "#4e9af1");
    const noFaceColor = "rgba(138, 109, 0, 0.22)";
    const lastTime = timeline.times.length ? (timeline.times[timeline.times.length - 1] as number) : 0;
    const xMax = Math.max(durationS ?? 0, lastTime, 0.001);

    const drawOverlay = (u: uPlot) => {
      const { ctx } = u;
      const { left, top, width, height } = u.bbox;
      ctx.save();
      if (thresholds) {
        ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.lineWidth = devicePixelRatio;
        for (const [value, color] of [
          [thresholds.manipulated, "#eb5757"],
          [thresholds.authentic, "#27ae60"],
        ] as const) {
          const y = u.valToPos(value, "y", true);
          ctx.strokeStyle = color;
          ctx.beginPath();
          ctx.moveTo(left, y);
          ctx.lineTo(left + width, y);
          ctx.stroke();
        }
      }
      // A shaded column on every sampled frame where no face was found: a person in view there was not scored.
      ctx.fillStyle = noFaceColor;
      timeline.times.forEach((t, i) => {
        if (!timeline.noFace[i]) return;
        const columnX = u.valToPos(t, "x", true);
        ctx.fillRect(columnX - 3 * devicePixelRatio, top, 6 * devicePixelRatio, height);
      });
      // A tick under every sampled frame: where a click will land, even where no score exists.
      ctx.setLineDash([]);
      ctx.strokeStyle = text;
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath();
      for (const t of timeline.times) {
        const tickX = u.valToPos(t, "x", true);
        ctx.moveTo(tickX, top + height);
        ctx.lineTo(tickX, top + height - 6 * devicePixelRatio);
      }
      ctx.stroke();
      const x = u.valToPos(cursorRef.current, "x", true);
      if (x >= left && x <= left + width) {
        ctx.setLineDash([]);
        ctx.strokeStyle = cursorColor;
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
      ctx.restore();
    };

    const options: uPlot.Options = {
      width: Math.max(container.clientWidth, 240),
      height: CHART_HEIGHT_PX,
      scales: { x: { time: false, range: [0, xMax] }, y: { range: [0, 1] } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (_u, ticks) => ticks.map((t) => formatTimestamp(t, 1)) },
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (_u, ticks) => ticks.map((t) => t.toFixed(1)), size: 40 },
      ],
      series: [
        { label: "Time", value: (_u, v) => formatTimestamp(v) },
        ...timeline.series.map((s, i) => ({
          label: s.label,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 2,
          points: { show: true, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? "—" : v.toFixed(2)),
        })),
      ],
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      // The readout under the chart follows the video and names every series; uPlot's hover legend would repeat it.
      legend: { show: false },
      hooks: { draw: [drawOverlay] },
    };
    const plot = new uPlot(options, data, container);
    plotRef.current = plot;

    const onClick = (event: MouseEvent) => {
      const rect = plot.over.getBoundingClientRect();
      const t = plot.posToVal(event.clientX - rect.left, "x");
      const index = nearestIndex(timeline.times, t);
      onSeekRef.current(index >= 0 ? (timeline.times[index] as number) : Math.max(0, t));
    };
    plot.over.addEventListener("click", onClick);
    plot.over.style.cursor = "pointer";

    const resize = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(container.clientWidth, 240), height: CHART_HEIGHT_PX });
    });
    resize.observe(container);

    return () => {
      resize.disconnect();
      plot.over.removeEventListener("click", onClick);
      plot.destroy();
      plotRef.current = null;
    };
  }, [data, timeline, durationS, thresholds, theme]);

  useEffect(() => {
    cursorRef.current = currentTime;
    plotRef.current?.redraw(false);
  }, [currentTime]);

  function onKeyDown(event: KeyboardEvent) {
    const times = timeline.times;
    if (!times.length) return;
    let index = nearestIndex(times, currentTime);
    const at = times[index] as number;
    if (event.key === "ArrowRight") index = at > currentTime + 1e-3 ? index : index + 1;
    else if (event.key === "ArrowLeft") index = at < currentTime - 1e-3 ? index : index - 1;
    else if (event.key === "Home") index = 0;
    else if (event.key === "End") index = times.length - 1;
    else return;
    event.preventDefault();
    index = Math.max(0, Math.min(times.length - 1, index));
    onSeek(times[index] as number);
  }

  if (!timeline.times.length) return <p className="empty">No frames were scored.</p>;
  const noScores = timeline.series.every((series) => series.values.every((value) => value === null));
  const readout = readoutAt(timeline, currentTime);
  return (
    <div
      className="timeline"
      tabIndex={0}
      role="group"
      aria-label="Score timeline. Click or use the arrow keys to move the video to a sampled frame."
      onKeyDown={onKeyDown}
      data-testid="score-timeline"
    >
      {noScores && (
        <p className="muted small" data-testid="timeline-no-scores">
          No detector produced a score for these frames; the chart still marks the sampled frames for seeking.
        </p>
      )}
      <div ref={containerRef} className="timeline-chart" />
      {noFaceText(timeline) && (
        <p className="muted small" data-testid="timeline-no-face">
          <span className="swatch no-face" aria-hidden="true" /> Shaded: {noFaceText(timeline)}: nothing was scored there.
        </p>
      )}
      {readout && (
        <p className="timeline-readout small" aria-live="polite" data-testid="timeline-readout" data-frame-index={readout.frameIndex}>
          <span className="strong">
            Frame {readout.frameIndex} at {formatTimestamp(readout.timeS)}
          </span>
          {readout.noFace && <span className="readout-value">no face found on this frame</span>}
          {readout.values.map((v, i) => (
            <span key={v.key} className="readout-value">
              <span className="swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} aria-hidden="true" />
              {v.label}: {v.value === null ? "no score" : formatScore(v.value)}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}
