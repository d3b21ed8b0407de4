/** Every row of a paginated API list (DRF's {count, next, results}), fetched a page at a time. */
import type { Paginated } from "../api/types";

/**
 * A list the server never sends whole (a job's frames: GET /jobs/{id}/frames/, 100 a page) is walked
 * by its `next` links. `maxPages` stops a server that links pages in a loop; an incomplete list is an
 * error, never shown as if it were all (a timeline missing its end would mislead).
 */
export async function collectPages<T>(
  firstUrl: string,
  getPage: (url: string) => Promise<Paginated<T>>,
  maxPages = 50,
): Promise<T[]> {
  const rows: T[] = [];
  let url: string | null | undefined = firstUrl;
  for (let pages = 0; url; pages++) {
    if (pages === maxPages) throw new Error(`The list has more than ${maxPages} pages; not all of it was loaded.`);
    const page: Paginated<T> = await getPage(url);
    rows.push(...page.results);
    url = page.next;
  }
  return rows;
}
