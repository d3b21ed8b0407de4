import { useState } from "react";
import { useWebhookDeliveries } from "../api/queries";
import type { WebhookDelivery } from "../api/types";
import { ErrorNote } from "../components/ErrorNote";
import { formatDateTime } from "../lib/format";

const STATUSES: { value: string; label: string }[] = [
  { value: "", label: "All deliveries" },
  { value: "delivered", label: "Delivered" },
  { value: "retrying", label: "Retrying" },
  { value: "failed", label: "Failed" },
  { value: "pending", label: "Pending" },
  { value: "skipped", label: "Skipped" },
];

/** The delivery log of the webhooks of the teams the user administers (endpoints are managed in the admin). */
export function WebhooksPage() {
  const [status, setStatus] = useState("");
  const deliveries = useWebhookDeliveries(status);
  return (
    <div className="stack">
      <div className="page-head">
        <h1>Webhook deliveries</h1>
      </div>
      <p className="muted small">
        What your team's systems were told when jobs ended or were reviewed. Endpoints and their secrets are managed in the
        admin; an endpoint whose deliveries keep failing is disabled there.
      </p>
      <div className="toolbar">
        <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="webhook-status">
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
      {deliveries.isPending && <p className="muted">Loading deliveries…</p>}
      {deliveries.isError && <ErrorNote error={deliveries.error} title="The delivery log could not be loaded" />}
      {deliveries.data &&
        (deliveries.data.results.length === 0 ? (
          <p className="empty">No deliveries.</p>
        ) : (
          <div className="table-wrap">
            <table className="table compact" data-testid="webhook-table">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Event</th>
                  <th>Endpoint</th>
                  <th>Status</th>
                  <th className="num">Attempts</th>
                  <th>Last answer</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data.results.map((d) => (
                  <DeliveryRow key={d.id} delivery={d} />
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </div>
  );
}

function DeliveryRow({ delivery: d }: { delivery: WebhookDelivery }) {
  return (
    <tr data-testid="webhook-delivery" data-status={d.status}>
      <td>{formatDateTime(d.created_at)}</td>
      <td>{d.event}</td>
      <td className="hash">
        {d.url}
        {!d.endpoint_enabled && <span className="muted"> (disabled)</span>}
      </td>
      <td>{d.status}</td>
      <td className="num">{d.attempts}</td>
      <td>{d.last_error || (d.last_status_code ? `HTTP ${d.last_status_code}` : "—")}</td>
    </tr>
  );
}
