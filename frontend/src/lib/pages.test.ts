import { describe, expect, it } from "vitest";
import type { Paginated } from "../api/types";
import { collectPages } from "./pages";

function pagesOf(rows: number[], size: number): Map<string, Paginated<number>> {
  const pages = new Map<string, Paginated<number>>();
  for (let start = 0, n = 1; start < rows.length || n === 1; start += size, n++) {
    const next = start + size < rows.length ? `/frames/?page=${n + 1}` : null;
    pages.set(`/frames/?page=${n}`, { count: rows.length, next, results: rows.slice(start, start + size) });
  }
  return pages;
}

describe("collectPages", () => {
  it("follows next links until the last page and keeps the server's order", async () => {
    const rows = Array.from({ length: 250 }, (_, i) => i * 10);
    const pages = pagesOf(rows, 100);
    const asked: string[] = [];
    const all = await collectPages("/frames/?page=1", async (url) => {
      asked.push(url);
      return pages.get(url)!;
    });
    expect(all).toEqual(rows);
    expect(asked).toEqual(["/frames/?page=1", "/frames/?page=2", "/frames/?page=3"]);
  });

  it("returns an empty list for an empty first page", async () => {
    expect(await collectPages("/frames/?page=1", async () => ({ count: 0, next: null, results: [] }))).toEqual([]);
  });

  it("refuses a list that links its pages in a loop instead of showing part of it", async () => {
    const loop = async () => ({ count: 1, next: "/frames/?page=1", results: [1] });
    await expect(collectPages("/frames/?page=1", loop, 5)).rejects.toThrow("more than 5 pages");
  });
});
