/**
 * One way to call the backend from a component: show busy while it runs,
 * put the backend's field errors on the form, toast a success, and report
 * any other failure. Free of the app state (it is handed in), so it can be
 * tested with plain async functions; components use `app.attempt`.
 */
import { IpcFailure } from "../ipc";

/** Where failures and successes are shown (the app state in the window). */
export interface Reporter {
  /** An unexpected failure: a locked session goes to unlock, the rest is toasted. */
  handle(e: unknown): void;
  toast(text: string): void;
}

export interface AttemptOptions<T> {
  /** Called with `true` before the work starts and `false` once it settled. */
  busy?: (on: boolean) => void;
  /** The form's field errors: `{}` before the work starts (a fresh attempt
   * shows none), then the backend's errors by field name if it names any. */
  fields?: (errors: Record<string, string>) => void;
  /** Toasted once the work succeeded, after everything it did. */
  done?: string | ((result: T) => string);
  /** A backend failure not put on the form: return true when it was dealt
   * with here (an inline message, a code the caller expects), false to have
   * it reported as usual. Other exceptions are always reported. */
  onError?: (e: IpcFailure) => boolean;
}

/** The backend's field errors, by field name (the last reason for a field named twice). */
export function fieldErrors(e: IpcFailure): Record<string, string> {
  return Object.fromEntries(e.fields.map((f) => [f.field, f.reason]));
}

/**
 * Runs `work`; resolves to its result, or to `undefined` when it failed
 * (the failure already shown). A failure goes to the first that takes it:
 * `fields` (when the backend named fields), `onError`, `report.handle`.
 */
export async function attempt<T>(report: Reporter, work: () => Promise<T>, options: AttemptOptions<T> = {}): Promise<T | undefined> {
  const { busy, fields, done, onError } = options;
  busy?.(true);
  fields?.({});
  try {
    const result = await work();
    if (done !== undefined) report.toast(typeof done === "string" ? done : done(result));
    return result;
  } catch (e) {
    if (e instanceof IpcFailure && fields && e.fields.length) fields(fieldErrors(e));
    else if (!(e instanceof IpcFailure && onError?.(e))) report.handle(e);
    return undefined;
  } finally {
    busy?.(false);
  }
}
