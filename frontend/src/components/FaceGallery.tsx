import { useMemo, useState } from "react";
import type { FaceResult, FrameResult, Job, Verdict } from "../api/types";
import { formatScore, formatTimestamp } from "../lib/format";
import { sortFrames } from "../lib/timeline";
import { formatPManipulated, scoreZone } from "../lib/verdict";

const CROPS_SHOWN_PER_TRACK = 24;

interface FaceAt {
  frame: FrameResult;
  face: FaceResult;
}

interface Props {
  frames: FrameResult[];
  verdict: Verdict | null;
  onSeek?: (timeS: number) => void;
  /** The sampled frame the video is showing: its crops are marked as current. */
  currentFrameIndex?: number | null;
  /** "video" or "image": an image's one frame has no time to show. */
  mediaKind: string;
  /** Which heatmaps were written, by which detectors, and whether they explain anything. */
  explanations?: Job["explanations"];
}

export function FaceGallery({ frames, verdict, onSeek, currentFrameIndex, mediaKind, explanations }: Props) {
  const uninformative = explanations?.uninformative || "";
  const explainedBy = (explanations?.detectors ?? []).join(", ");
  const isVideo = mediaKind === "video";
  const [showHeatmaps, setShowHeatmaps] = useState(false);
  const [selected, setSelected] = useState<FaceAt | null>(null);
  const [expanded, setExpanded] = useState<Set<number>>(new Set());

  const tracks = useMemo(() => {
    const byTrack = new Map<number, FaceAt[]>();
    for (const frame of sortFrames(frames)) {
      if (!frame.readable) continue;
      for (const face of frame.faces) {
        const list = byTrack.get(face.track_id) ?? [];
        list.push({ frame, face });
        byTrack.set(face.track_id, list);
      }
    }
    return [...byTrack.entries()].sort(([a], [b]) => a - b);
  }, [frames]);

  const anyHeatmap = tracks.some(([, faces]) => faces.some((f) => f.face.heatmap_url));
  const thresholds = verdict?.thresholds ?? { manipulated: 0.5, authentic: 0.5 };

  if (!tracks.length) return <p className="empty">No faces were found in the sampled frames.</p>;
  return (
    <div className="gallery" data-testid="face-gallery">
      <div className="toolbar">
        <button
          type="button"
          className="button"
          aria-pressed={showHeatmaps}
          disabled={!anyHeatmap}
          onClick={() => setShowHeatmaps((v) => !v)}
          data-testid="heatmap-toggle"
        >
          {showHeatmaps ? "Hide heatmaps" : uninformative ? "Show heatmaps anyway" : "Show heatmaps"}
        </button>
        {!anyHeatmap && <span className="muted small">No heatmaps for this analysis.</span>}
        {anyHeatmap && showHeatmaps && <HeatmapLegend detectors={explainedBy} />}
      </div>
      {anyHeatmap && uninformative && (
        <p className="note warn small" data-testid="heatmaps-uninformative">
          <strong>Heatmaps uninformative:</strong> {uninformative}. They are kept for the record, not shown as evidence.
        </p>
      )}

      {tracks.map(([trackId, faces]) => {
        const summary = verdict?.per_track.find((t) => t.track_id === trackId);
        const shown = expanded.has(trackId) ? faces : faces.slice(0, CROPS_SHOWN_PER_TRACK);
        return (
          <section key={trackId} className="track" aria-label={`Face track ${trackId}`} data-testid="face-track">
            <h3>
              {isVideo ? `Track ${trackId}` : `Face ${trackId + 1}`}
              <span className="muted small">
                {isVideo && ` · ${faces.length} face${faces.length === 1 ? "" : "s"}`}
                {summary && ` · ${formatPManipulated(summary.score)}`}
              </span>
            </h3>
            <ul className="crops">
              {shown.map((item) => {
                const zone = item.face.score === null ? "none" : scoreZone(item.face.score, thresholds);
                const isSelected = selected?.face === item.face;
                const isCurrent = currentFrameIndex === item.frame.frame_index;
                return (
                  <li key={`${item.frame.frame_index}-${trackId}`}>
                    <button
                      type="button"
                      className={`crop zone-${zone}${isSelected ? " selected" : ""}${isCurrent ? " current" : ""}`}
                      data-current={isCurrent || undefined}
                      aria-pressed={isSelected}
                      aria-label={`${isVideo ? `Frame ${item.frame.frame_index} at ${formatTimestamp(item.frame.timestamp_s)}` : "The face"}, ${formatPManipulated(item.face.score)}`}
                      onClick={() => {
                        setSelected(item);
                        onSeek?.(item.frame.timestamp_s);
                      }}
                      data-testid="face-crop"
                    >
                      <span className="crop-image">
                        {item.face.crop_url && <img src={item.face.crop_url} alt="" />}
                        {showHeatmaps && item.face.heatmap_url && <img className="heatmap" src={item.face.heatmap_url} alt="" />}
                      </span>
                      <span className="crop-caption">
                        {isVideo && `${formatTimestamp(item.frame.timestamp_s)} · `}
                        {formatScore(item.face.score)}
                        {item.face.heatmap_url && " · heatmap"}
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
            {faces.length > CROPS_SHOWN_PER_TRACK && !expanded.has(trackId) && (
              <button type="button" className="button ghost small" onClick={() => setExpanded(new Set(expanded).add(trackId))}>
                Show all {faces.length} faces
              </button>
            )}
          </section>
        );
      })}

      {selected && (
        <aside className="crop-detail card" aria-label="Selected face" data-testid="face-detail">
          <div className="crop-pair">
            <div className="crop-image large">
              {selected.face.crop_url && (
                <img src={selected.face.crop_url} alt={`Face of track ${selected.face.track_id} at frame ${selected.frame.frame_index}`} />
              )}
            </div>
            {selected.face.heatmap_url && (!uninformative || showHeatmaps) && (
              <figure className="heatmap-figure" data-testid="face-detail-heatmap">
                <div className="crop-image large">
                  <img src={selected.face.heatmap_url} alt={`Heatmap of the face of track ${selected.face.track_id}`} />
                </div>
                <figcaption>
                  <HeatmapLegend detectors={explainedBy} />
                </figcaption>
              </figure>
            )}
          </div>
          <div>
            <h3>
              {isVideo
                ? `Track ${selected.face.track_id}, frame ${selected.frame.frame_index} (${formatTimestamp(selected.frame.timestamp_s)})`
                : `Face ${selected.face.track_id + 1}`}
            </h3>
            <table className="table compact">
              <tbody>
                <tr>
                  <th scope="row">Ensemble P(manipulated)</th>
                  <td className="num">{formatScore(selected.face.score)}</td>
                </tr>
                {Object.entries(selected.face.detector_scores).map(([name, score]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td className="num">{formatScore(score)}</td>
                  </tr>
                ))}
                <tr>
                  <th scope="row">Face detection</th>
                  <td className="num">{formatScore(selected.face.det_prob)}</td>
                </tr>
              </tbody>
            </table>
            <button type="button" className="button ghost small" onClick={() => setSelected(null)}>
              Close
            </button>
          </div>
        </aside>
      )}
    </div>
  );
}

/** What a heatmap's colours mean: a Grad-CAM of the detector's score, from low (blue) to high (red) contribution. */
export function HeatmapLegend({ detectors }: { detectors: string }) {
  return (
    <span className="heatmap-legend small" data-testid="heatmap-legend">
      <span className="legend-bar" aria-hidden="true" />
      <span>
        blue: little, red: most of {detectors || "the detector"}'s evidence for manipulation (Grad-CAM); where it
        looked, not a map of what was manipulated
      </span>
    </span>
  );
}
