import { describe, expect, it } from "vitest";
import { eta, formatBytes, formatDuration, fraction, incidentNote, rate } from "./scan";
import type { ScanMatch } from "./ipc";

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
