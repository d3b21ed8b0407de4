import { useMemo, useState } from "react";
import type { DetectorInfo, FrameResult, Verdict } from "../api/types";
import { DISAGREEMENT_THRESHOLD, findDisagreements, summarizeDetectors } from "../lib/disagreement";
import { formatScore, formatTimestamp } from "../lib/format";

const DISAGREEMENTS_SHOWN = 20;

interface Props {
  frames: FrameResult[];
  detectorSet: DetectorInfo[];
  verdict: Verdict | null;
  onSeek?: (timeS: number) => void;
  /** "video" or "image": an image has one frame and no time. */
  mediaKind: string;
}

export function DetectorComparison({ frames, detectorSet, verdict, onSeek, mediaKind }: Props) {
  const isVideo = mediaKind === "video";
  const [showAll, setShowAll] = useState(false);
  const rows = useMemo(() => summarizeDetectors(frames, detectorSet, verdict?.per_detector ?? {}), [frames, detectorSet, verdict]);
  const disagreements = useMemo(() => findDisagreements(frames), [frames]);
  const shown = showAll ? disagreements : disagreements.slice(0, DISAGREEMENTS_SHOWN);
  const scoring = rows.filter((row) => row.facesScored > 0).length;

  return (
    <div className="stack" data-testid="detector-comparison">
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Each detector's scores for this {mediaKind}</caption>
          <thead>
            <tr>
              <th scope="col">Detector</th>
              <th scope="col" className="num" data-testid="comparison-media-score">
                {isVideo ? "Video" : "Image"} P(manipulated)
              </th>
              <th scope="col" className="num">
                Mean face
              </th>
              <th scope="col" className="num">
                Max face
              </th>
              <th scope="col" className="num">
                Faces over threshold
              </th>
              <th scope="col" className="num">
                In disagreements
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name}>
                <th scope="row">
                  {row.name}
                  {row.info && !row.info.trained && <span className="badge warn small-badge">untrained</span>}
                </th>
                <td className="num">{formatScore(row.videoScore)}</td>
                <td className="num">{formatScore(row.meanFaceScore)}</td>
                <td className="num">{formatScore(row.maxFaceScore)}</td>
                <td className="num">{row.facesScored ? `${row.facesFlagged} / ${row.facesScored}` : "not scored"}</td>
                <td className="num">{row.disagreements}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3>Frames where detectors disagree (gap over {DISAGREEMENT_THRESHOLD})</h3>
      {scoring < 2 ? (
        <p className="empty" data-testid="disagreements-none">
          {scoring === 0 ? "No detector scored a face" : "Only one detector scored faces"}, so there is nothing to compare yet.
        </p>
      ) : disagreements.length === 0 ? (
        <p className="empty" data-testid="disagreements-none">
          The detectors agree within {DISAGREEMENT_THRESHOLD} on every face.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="disagreements">
            <thead>
              <tr>
                {isVideo && <th scope="col">Time</th>}
                <th scope="col" className="num">
                  Frame
                </th>
                <th scope="col" className="num">
                  Track
                </th>
                <th scope="col">Highest</th>
                <th scope="col">Lowest</th>
                <th scope="col" className="num">
                  Gap
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <tr key={`${d.frame_index}-${d.track_id}`}>
                  {isVideo && (
                  <td>
                    {onSeek ? (
                      <button type="button" className="link-button" onClick={() => onSeek(d.timestamp_s)}>
                        {formatTimestamp(d.timestamp_s)}
                      </button>
                    ) : (
                      formatTimestamp(d.timestamp_s)
                    )}
                  </td>
                  )}
                  <td className="num">{d.frame_index}</td>
                  <td className="num">{d.track_id}</td>
                  <td>
                    {d.high.name} {formatScore(d.high.score)}
                  </td>
                  <td>
                    {d.low.name} {formatScore(d.low.score)}
                  </td>
                  <td className="num">{formatScore(d.spread)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {disagreements.length > DISAGREEMENTS_SHOWN && !showAll && (
        <button type="button" className="button ghost small" onClick={() => setShowAll(true)}>
          Show all {disagreements.length}
        </button>
      )}
    </div>
  );
}
