import { ApiError } from "../api/client";

export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError ? ` (HTTP ${error.status})` : "";
  return (
    <div className="note error" role="alert">
      {title && <strong>{title}. </strong>}
      {message}
      {status}
    </div>
  );
}
