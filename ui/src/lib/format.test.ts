import { describe, expect, it } from "vitest";
import { describeReason } from "./format";

describe("describeReason", () => {
  it("names the clock that set the date", () => {
    expect(describeReason({ kind: "period", days: 60, default: true })).toBe("the default 60-day period for its permissions");
    expect(describeReason({ kind: "period", days: 90, default: false })).toBe("its 90-day rotation period");
    expect(describeReason({ kind: "expiry" })).toBe("the key expires");
    expect(describeReason({ kind: "venue", rule: "binance.no-ip-trading", text: "Binance turns trading off" })).toBe("Binance turns trading off");
    expect(describeReason(null)).toBe("");
  });
});
