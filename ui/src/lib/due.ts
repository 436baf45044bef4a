/**
 * Human wording for a key's next due date, as the inventory will show it:
 * "overdue by 3 days", "due today", "in 12 days". Dates come from the core
 * as RFC 3339 strings; `now` is a parameter so the wording is testable.
 */
export function describeDue(nextDueAt: string | null, now: Date): string {
  if (nextDueAt === null) return "no rotation set";
  const due = new Date(nextDueAt);
  if (Number.isNaN(due.getTime())) return "unknown";
  const day = 24 * 60 * 60 * 1000;
  const days = Math.floor((startOfDay(due) - startOfDay(now)) / day);
  if (days < 0) return days === -1 ? "overdue by 1 day" : `overdue by ${-days} days`;
  if (days === 0) return "due today";
  if (days === 1) return "due tomorrow";
  return `in ${days} days`;
}

function startOfDay(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
