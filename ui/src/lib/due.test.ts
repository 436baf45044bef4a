import { describe, expect, it } from "vitest";
import { describeDue } from "./due";

const now = new Date("2026-11-22T08:00:00Z");

describe("describeDue", () => {
  it("says when there is no rotation", () => {
    expect(describeDue(null, now)).toBe("no rotation set");
  });
  it("counts whole days, not hours", () => {
    expect(describeDue("2026-11-22T23:59:00Z", now)).toBe("due today");
    expect(describeDue("2026-11-23T00:00:00Z", now)).toBe("due tomorrow");
    expect(describeDue("2026-12-02T00:00:00Z", now)).toBe("in 10 days");
  });
  it("reports overdue keys", () => {
    expect(describeDue("2026-11-21T08:00:00Z", now)).toBe("overdue by 1 day");
    expect(describeDue("2026-11-01T00:00:00Z", now)).toBe("overdue by 21 days");
  });
  it("does not invent a date from garbage", () => {
    expect(describeDue("not a date", now)).toBe("unknown");
  });
});
