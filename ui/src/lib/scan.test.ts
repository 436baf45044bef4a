import { describe, expect, it } from "vitest";
import { advance, eta, formatBytes, formatDuration, fraction, incidentNote, nothingShown, rate } from "./scan";
import type { ScanMatch, ScanStatus, Skipped } from "./ipc";

const hit = (path: string, line: number, encoding: ScanMatch["encoding"] = "raw"): ScanMatch => ({
  path,
  line,
  column: 1,
  key_id: "k",
  label: "bot",
  field: "api_secret",
  encoding,
  preview: "X=****",
});

describe("scan figures", () => {
  it("formats sizes and durations for people", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB");
    expect(formatDuration(400)).toBe("under a second");
    expect(formatDuration(42_000)).toBe("42 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3_720_000)).toBe("1 h 2 min");
  });

  it("gives a rate, and an ETA only once the total is known", () => {
    expect(rate(10 * 1024 ** 2, 2000)).toBe(5 * 1024 ** 2);
    expect(rate(5, 0)).toBe(0);
    expect(eta(100, 400, false, 1000)).toBeNull();
    expect(eta(0, 400, true, 1000)).toBeNull();
    expect(eta(100, 400, true, 1000)).toBe(3000);
    expect(eta(500, 400, true, 1000)).toBe(0);
    expect(fraction(1, 4, false)).toBeNull();
    expect(fraction(1, 4, true)).toBe(0.25);
    expect(fraction(9, 4, true)).toBe(1);
    expect(fraction(0, 0, true)).toBe(1);
  });

  it("writes the incident note with places and lines, never more than ten", () => {
    expect(incidentNote(["/home/u/.config"], 12, 2048, [], new Set(), false)).toBe("Keyward leak scan of /home/u/.config: 12 files, 2.0 KiB. No copy found.");
    const note = incidentNote(["/a", "/b", "/c", "/d"], 3, 10, [hit("/a/.env", 3), hit("/b/x.log", 9, "base64")], new Set([0]), true);
    expect(note).toBe(
      "Keyward leak scan (cancelled) of /a, /b, /c and 1 more: 3 files, 10 B. 2 copies found, 1 resolved: /a/.env:3 (api_secret) — resolved; /b/x.log:9 (api_secret, base64).",
    );
    const many = incidentNote(["/a"], 1, 1, Array.from({ length: 12 }, (_, i) => hit("/a/f", i + 1)), new Set(), false);
    expect(many.endsWith("; and 2 more.")).toBe(true);
  });
});

/** A report of scan `id`: `matches` found after the first `since`. */
function report(id: number, matches: ScanMatch[], since: number, skipped: Skipped[] = [], skippedSince = 0, running = true): ScanStatus {
  return {
    id,
    running,
    cancelled: false,
    by_lock: false,
    paths: ["/tmp/p"],
    keys: [],
    incident: null,
    files: 1,
    bytes: 1,
    total_files: 1,
    total_bytes: 1,
    measured: true,
    elapsed_ms: 1,
    needles: 2,
    too_short: 0,
    matches,
    match_count: since + matches.length,
    skipped,
    skipped_count: skippedSince + skipped.length,
    resolved: [],
    recorded: null,
    keep_error: null,
    home: null,
  };
}

describe("following a scan's reports", () => {
  const skip = (path: string): Skipped => ({ path, reason: "unreadable" });

  it("appends a report that continues the lists and replaces with whole lists", () => {
    const first = advance(nothingShown, report(1, [hit("/a", 1)], 0));
    expect(first?.fresh).toBe(true);
    const next = advance(first!.shown, report(1, [hit("/b", 2)], 1, [skip("/c")], 0));
    expect(next?.fresh).toBe(false);
    expect(next!.shown.matches.map((m) => m.path)).toEqual(["/a", "/b"]);
    expect(next!.shown.skipped.map((s) => s.path)).toEqual(["/c"]);
    // Nothing new: the same lists, the newer figures.
    const quiet = advance(next!.shown, { ...report(1, [], 2, [], 1), files: 9 });
    expect(quiet!.shown.matches).toBe(next!.shown.matches);
    expect(quiet!.shown.status?.files).toBe(9);
  });

  it("asks for the whole state when a report was missed or is an older scan's", () => {
    const shown = advance(nothingShown, report(2, [hit("/a", 1)], 0))!.shown;
    expect(advance(shown, report(2, [hit("/z", 9)], 3))).toBeNull();
    expect(advance(shown, report(1, [], 0))).toBeNull();
  });

  it("starts afresh on a newer scan", () => {
    const shown = advance(nothingShown, report(2, [hit("/a", 1)], 0))!.shown;
    const newer = advance(shown, report(3, [], 0));
    expect(newer?.fresh).toBe(true);
    expect(newer!.shown.matches).toEqual([]);
    expect(advance(shown, report(3, [hit("/q", 1)], 4))).toBeNull();
  });
});
