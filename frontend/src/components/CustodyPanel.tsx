import { useMemo, useState } from "react";
import { useCustody } from "../api/queries";
import type { ChainLink } from "../api/types";
import { READS, SUBSTANTIVE, actionLabel, custodyActions, filterCustody } from "../lib/custody";
import { formatDateTime, shortHash } from "../lib/format";
import { ErrorNote } from "./ErrorNote";

/**
 * The custody log of a case or a job: who did what, when, from where, with each event's hash and
 * the team's chain head (quoting it pins the log), filterable, exportable for a third party to verify.
 */
export function CustodyPanel({ custodyUrl, version }: { custodyUrl: string; version: ChainLink | null | undefined }) {
  const log = useCustody(custodyUrl, version ? `${version.seq}:${version.entry_hash}` : "");
  const [text, setText] = useState("");
  const [action, setAction] = useState(SUBSTANTIVE);
  const events = log.data?.events;
  const shown = useMemo(() => filterCustody(events ?? [], { text, action }), [events, text, action]);
  const actions = useMemo(() => custodyActions(events ?? []), [events]);
  const reads = useMemo(() => (events ?? []).filter((e) => e.is_read).length, [events]);
  const head = log.data?.head;
  const exportUrl = custodyUrl.replace(/\/?$/, "/export/");

  return (
    <section className="card" aria-labelledby="custody-title" data-testid="custody-panel">
      <h2 id="custody-title">Custody log</h2>
      {head && (
        <p className="small" data-testid="custody-head">
          Chain head <strong>{head.chain}</strong> · seq <strong>{head.seq}</strong> ·{" "}
          <code className="hash" title={head.entry_hash}>
            {head.entry_hash}
          </code>
        </p>
      )}
      {log.isPending && <p className="muted">Loading the custody log…</p>}
      {log.isError && <ErrorNote error={log.error} title="The custody log could not be loaded" />}
      {events && (
        <>
          <div className="toolbar" role="group" aria-label="Filter the custody log">
            <input
              type="search"
              placeholder="Filter: who, address, hash…"
              aria-label="Filter the custody log"
              value={text}
              onChange={(e) => setText(e.target.value)}
              data-testid="custody-filter"
            />
            <select aria-label="Action" value={action} onChange={(e) => setAction(e.target.value)} data-testid="custody-action">
              <option value={SUBSTANTIVE}>Substantive events</option>
              <option value={READS}>Reads of evidence</option>
              <option value="">All events</option>
              {actions.map((a) => (
                <option key={a} value={a}>
                  {actionLabel(a)}
                </option>
              ))}
            </select>
            <a className="button small" href={`${exportUrl}?as=json`} data-testid="custody-export-json">
              Export JSON
            </a>
            <a className="button small" href={`${exportUrl}?as=csv`} data-testid="custody-export-csv">
              Export CSV
            </a>
          </div>
          {action === SUBSTANTIVE && reads > 0 && (
            <p className="muted small" data-testid="custody-reads-hidden">
              {reads} read{reads === 1 ? "" : "s"} of evidence (the original played, crops shown, the report opened; one per
              person and object every 10 minutes) not listed: choose "Reads of evidence" to see them.
            </p>
          )}
          {shown.length === 0 ? (
            <p className="empty">{events.length ? "No event matches the filter." : "No custody events yet."}</p>
          ) : (
            <div className="table-wrap">
              <table className="table compact" data-testid="custody-table">
                <thead>
                  <tr>
                    <th className="num">Seq</th>
                    <th>When</th>
                    <th>Who</th>
                    <th>What</th>
                    <th>Object</th>
                    <th>From</th>
                    <th>Event hash</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((event) => (
                    <tr key={event.id} data-testid="custody-event">
                      <td className="num">{event.seq}</td>
                      <td>
                        <time dateTime={event.created_at}>{formatDateTime(event.created_at)}</time>
                      </td>
                      <td>{event.actor_name || "system"}</td>
                      <td>{actionLabel(event.action)}</td>
                      <td>
                        {event.object_type} {event.object_id}
                      </td>
                      <td>{event.ip ?? "—"}</td>
                      <td>
                        <code className="hash" title={`${event.entry_hash} (previous ${event.prev_hash})`}>
                          {shortHash(event.entry_hash, 16)}
                        </code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
