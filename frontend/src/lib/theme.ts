/** The current colour theme, followed through the data-theme attribute the toggle sets. */
import { useSyncExternalStore } from "react";

function subscribe(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  return () => observer.disconnect();
}

export function useThemeName(): string {
  return useSyncExternalStore(subscribe, () => document.documentElement.dataset.theme ?? "");
}

export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** Series colours chosen to stay distinct on both the dark and the light background. */
export const SERIES_COLORS = ["#4e9af1", "#f2994a", "#27ae60", "#eb5757", "#9b51e0", "#2bb3b3", "#d4a72c", "#e05fa8"];
