/** Display helpers: dates in local time, short ids, why a key is due. */

import type { DueReason } from "./ipc";

/** Which clock set a key's due date, in words. */
export function describeReason(r: DueReason | null): string {
  if (!r) return "";
  if (r.kind === "period") return r.default ? `the default ${r.days}-day period for its permissions` : `its ${r.days}-day rotation period`;
  if (r.kind === "expiry") return "the key expires";
  if (r.kind === "requested") return "the access review asked for a rotation";
  return r.text;
}

/** `2026-11-22T08:00:00Z` → the local date, e.g. `22 Nov 2026`. */
export function formatDate(rfc3339: string | null): string {
  if (!rfc3339) return "—";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** The local date as `YYYY-MM-DD`, for `<input type="date">`. */
export function toDateInput(rfc3339: string | null): string {
  if (!rfc3339) return "";
  return rfc3339.slice(0, 10);
}

/** Due within this many days (or overdue)? */
export function dueWithin(nextDueAt: string | null, days: number, now: Date): boolean {
  if (!nextDueAt) return false;
  return new Date(nextDueAt).getTime() - now.getTime() <= days * 86_400_000;
}

export function isOverdue(nextDueAt: string | null, now: Date): boolean {
  return !!nextDueAt && new Date(nextDueAt).getTime() < now.getTime();
}
