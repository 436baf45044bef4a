/** The Scan screen's logic: following a scan's reports, the figures it
 * shows (sizes, rates, the ETA), and the note a scan leaves in an
 * incident's step 5. Pure functions, unit-tested. */
import type { ScanMatch, ScanStatus, Skipped } from "./ipc";

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return "under a second";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Bytes per second so far; 0 before there is anything to tell. */
export function rate(bytes: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
}

/** Milliseconds left, or null while the total is unknown or too early to say. */
export function eta(bytes: number, totalBytes: number, measured: boolean, elapsedMs: number): number | null {
  if (!measured || bytes <= 0 || elapsedMs < 300) return null;
  const left = Math.max(totalBytes - bytes, 0);
  return (left / bytes) * elapsedMs;
}

/** 0–1 for the progress bar; null (indeterminate) while the total is unknown. */
export function fraction(bytes: number, totalBytes: number, measured: boolean): number | null {
  if (!measured) return null;
  if (totalBytes <= 0) return 1;
  return Math.min(bytes / totalBytes, 1);
}

/** The note recorded in an incident's "find copies" step. No secret: paths, lines, fields. */
export function incidentNote(
  paths: string[],
  files: number,
  bytes: number,
  matches: ScanMatch[],
  resolved: Set<number>,
  cancelled: boolean,
): string {
  const where = paths.length <= 3 ? paths.join(", ") : `${paths.slice(0, 3).join(", ")} and ${paths.length - 3} more`;
  const head = `Keyward leak scan${cancelled ? " (cancelled)" : ""} of ${where}: ${files.toLocaleString("en")} files, ${formatBytes(bytes)}.`;
  if (matches.length === 0) return `${head} No copy found.`;
  const list = matches
    .slice(0, 10)
    .map((m, i) => `${m.path}:${m.line} (${m.field}${m.encoding === "raw" ? "" : `, ${m.encoding}`})${resolved.has(i) ? " — resolved" : ""}`)
    .join("; ");
  const more = matches.length > 10 ? `; and ${matches.length - 10} more` : "";
  return `${head} ${matches.length} cop${matches.length === 1 ? "y" : "ies"} found, ${resolved.size} resolved: ${list}${more}.`;
}

/** What the Scan screen shows of a scan: its state and every copy and
 * skipped file reported so far. */
export interface Shown {
  status: ScanStatus | null;
  matches: ScanMatch[];
  skipped: Skipped[];
}

export const nothingShown: Shown = { status: null, matches: [], skipped: [] };

/**
 * What a report from the backend does to what is shown. Each report carries
 * the copies and skipped files found after a given count: one that continues
 * the lists shown is appended; one holding whole lists replaces them (`fresh`);
 * a report of an older scan, or one out of step with the lists (a report
 * missed), gives `null`: fetch the scan's whole state instead.
 */
export function advance(shown: Shown, s: ScanStatus): { shown: Shown; fresh: boolean } | null {
  if (shown.status && s.id < shown.status.id) return null;
  const continues =
    shown.status?.id === s.id &&
    s.match_count - s.matches.length === shown.matches.length &&
    s.skipped_count - s.skipped.length === shown.skipped.length;
  if (continues) {
    return {
      fresh: false,
      shown: {
        status: s,
        matches: s.matches.length ? [...shown.matches, ...s.matches] : shown.matches,
        skipped: s.skipped.length ? [...shown.skipped, ...s.skipped] : shown.skipped,
      },
    };
  }
  const whole = s.matches.length === s.match_count && s.skipped.length === s.skipped_count;
  if (whole) return { fresh: true, shown: { status: s, matches: s.matches, skipped: s.skipped } };
  return null;
}
