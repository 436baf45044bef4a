import { describe, expect, it } from "vitest";
import { attempt, fieldErrors, type Reporter } from "./call";
import { IpcFailure } from "../ipc";

/** Records, in order, everything the helper did that a user would see. */
function recorder() {
  const seen: string[] = [];
  const report: Reporter = {
    handle: (e) => seen.push(`handle ${e instanceof Error ? e.message : String(e)}`),
    toast: (text) => seen.push(`toast ${text}`),
  };
  const busy = (on: boolean) => seen.push(`busy ${on}`);
  const fields = (errors: Record<string, string>) => seen.push(`fields ${JSON.stringify(errors)}`);
  return { seen, report, busy, fields };
}

const invalid = (fields: { field: string; reason: string }[] = []) =>
  new IpcFailure({ code: "invalid", message: "bad input", fields });

describe("attempt", () => {
  it("returns the result and toasts `done` after the work, inside busy", async () => {
    const { seen, report, busy } = recorder();
    const result = await attempt(
      report,
      async () => {
        seen.push("work");
        return 42;
      },
      { busy, done: (n) => `Got ${n}` },
    );
    expect(result).toBe(42);
    expect(seen).toEqual(["busy true", "work", "toast Got 42", "busy false"]);
  });

  it("takes `done` as plain text, and needs no options", async () => {
    const { seen, report } = recorder();
    await attempt(report, async () => undefined, { done: "Saved" });
    expect(await attempt(report, async () => "x")).toBe("x");
    expect(seen).toEqual(["toast Saved"]);
  });

  it("starts the work at once, before any await", () => {
    const { seen, report } = recorder();
    void attempt(report, async () => void seen.push("work"));
    expect(seen).toEqual(["work"]);
  });

  it("clears the form first, then puts the backend's field errors on it", async () => {
    const { seen, report, busy, fields } = recorder();
    const result = await attempt(
      report,
      async () => {
        throw invalid([
          { field: "label", reason: "must not be empty" },
          { field: "ip_allowlist", reason: "not an address" },
        ]);
      },
      { busy, fields, done: "never" },
    );
    expect(result).toBeUndefined();
    expect(seen).toEqual([
      "busy true",
      'fields {}',
      'fields {"label":"must not be empty","ip_allowlist":"not an address"}',
      "busy false",
    ]);
  });

  it("reports a failure that names no field, and one with fields when the form takes none", async () => {
    const { seen, report, fields } = recorder();
    await attempt(report, async () => Promise.reject(invalid()), { fields });
    await attempt(report, async () => Promise.reject(invalid([{ field: "label", reason: "empty" }])));
    expect(seen).toEqual(["fields {}", "handle bad input", "handle bad input"]);
  });

  it("lets `onError` take a failure, or pass it on", async () => {
    const { seen, report } = recorder();
    const stale = new IpcFailure({ code: "stale", message: "changed elsewhere", fields: [] });
    const onError = (e: IpcFailure) => {
      seen.push(`onError ${e.code}`);
      return e.code === "stale";
    };
    expect(await attempt(report, async () => Promise.reject(stale), { onError })).toBeUndefined();
    await attempt(report, async () => Promise.reject(invalid()), { onError });
    expect(seen).toEqual(["onError stale", "onError invalid", "handle bad input"]);
  });

  it("puts field errors on the form before `onError` sees anything", async () => {
    const { seen, report, fields } = recorder();
    const onError = () => {
      seen.push("onError");
      return true;
    };
    await attempt(report, async () => Promise.reject(invalid([{ field: "x", reason: "y" }])), { fields, onError });
    expect(seen).toEqual(["fields {}", 'fields {"x":"y"}']);
  });

  it("reports anything that is not a backend failure, whatever `onError` says", async () => {
    const { seen, report, busy } = recorder();
    const result = await attempt(
      report,
      async () => {
        throw new TypeError("a bug");
      },
      { busy, onError: () => true },
    );
    expect(result).toBeUndefined();
    expect(seen).toEqual(["busy true", "handle a bug", "busy false"]);
  });

  it("ends busy also when the failure is reported", async () => {
    const { seen, report, busy } = recorder();
    await attempt(report, async () => Promise.reject(new IpcFailure({ code: "locked", message: "locked", fields: [] })), { busy });
    expect(seen).toEqual(["busy true", "handle locked", "busy false"]);
  });
});

describe("fieldErrors", () => {
  it("maps fields to reasons, the last one winning", () => {
    expect(fieldErrors(invalid())).toEqual({});
    expect(
      fieldErrors(
        invalid([
          { field: "a", reason: "one" },
          { field: "b", reason: "two" },
          { field: "a", reason: "three" },
        ]),
      ),
    ).toEqual({ a: "three", b: "two" });
  });
});
