/**
 * The window's state, in one place: which screen shows, the entry list the
 * backend last sent, the filter and sort, the selection, and short-lived
 * messages. Secrets are never kept here (a revealed value lives only in the
 * detail pane while it is shown).
 */
import { ipc, IpcFailure, type Entry, type LockReason, type PermissionInfo, type Platform, type VaultStatus } from "../ipc";
import { attempt as attemptWith, type AttemptOptions } from "./call";

export type Screen = "loading" | "create" | "unlock" | "inventory";
export type SortKey = "platform" | "label" | "environment" | "permissions" | "ip" | "next_due_at" | "status";

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
}

export interface FilterState {
  text: string;
  platform: string;
  environment: string;
  status: string;
  permission: string;
  dueSoon: boolean;
}

const emptyFilter = (): FilterState => ({
  text: "",
  platform: "",
  environment: "",
  status: "",
  permission: "",
  dueSoon: false,
});

/** Keys due within this many days count as "due soon". */
export const DUE_SOON_DAYS = 30;

class AppState {
  screen = $state<Screen>("loading");
  vaultPath = $state("");
  /** Remembered on this device: the unlock screen offers the keyring. */
  remembered = $state(false);
  lockMessage = $state("");
  entries = $state.raw<Entry[]>([]);
  /** How each key's due date reads today ("due tomorrow"), by id: worded by
   * the backend in the user's time zone, never computed here. */
  dueWords = $state.raw<Map<string, string>>(new Map());
  version = $state(0);
  matches = $state.raw<number[]>([]);
  filter = $state<FilterState>(emptyFilter());
  sortKey = $state<SortKey>("platform");
  sortAscending = $state(true);
  selectedId = $state<string | null>(null);
  /** Which view the inventory shows: the keys, or the findings dashboard. */
  view = $state<"keys" | "findings" | "review" | "incidents" | "scan">("keys");
  /** The Scan view searches for this incident's keys (its step 5). */
  scanIncident = $state<string | null>(null);
  /** The incident the Incidents view shows. */
  incidentId = $state<string | null>(null);
  toasts = $state<Toast[]>([]);
  platforms = $state.raw<Platform[]>([]);
  permissions = $state.raw<PermissionInfo[]>([]);
  /** Which dialog is open over the inventory. */
  dialog = $state<
    | null
    | { kind: "add" }
    | { kind: "edit"; id: string }
    | { kind: "settings" }
    | { kind: "backup" }
    | { kind: "delete"; id: string }
    | { kind: "rotate"; id: string }
    | { kind: "replace"; id: string }
    | { kind: "open-incident"; id: string; note?: string; source?: "manual" | "leak_scan" }
  >(null);
  /** A key to show once the vault is unlocked (a reminder's "Open"). */
  #pendingOpen: string | null = null;

  #filterSeq = 0;
  /** Fetches the list again just after local midnight: "due tomorrow" becomes "due today". */
  #midnight: ReturnType<typeof setTimeout> | undefined;
  #booted = false;
  #toastSeq = 0;

  selected = $derived(this.entries.find((e) => e.id === this.selectedId));

  /** The matching entries, sorted as the table shows them. */
  rows = $derived.by(() => {
    const dir = this.sortAscending ? 1 : -1;
    const key = this.sortKey;
    // Each key computed once, not once per comparison: 10,000 rows sort in ms.
    const keyed: [string | number, Entry][] = [];
    for (const i of this.matches) {
      const e = this.entries[i];
      if (e) keyed.push([sortValue(e, key), e]);
    }
    keyed.sort((a, b) => dir * compare(a[0], b[0]));
    return keyed.map((k) => k[1]);
  });

  /** Platforms present in the vault, for the filter. */
  presentPlatforms = $derived([...new Set(this.entries.map((e) => e.platform))].sort((a, b) => a.localeCompare(b)));

  async start() {
    // The backend hands the status to the page before it loads, so the first
    // screen needs no round trip; a reload asks again.
    const boot = (window as { __KEYWARD_BOOT__?: VaultStatus }).__KEYWARD_BOOT__;
    const status = boot && !this.#booted ? boot : await ipc.getVaultStatus();
    this.#booted = true;
    this.vaultPath = status.path;
    this.remembered = status.remembered;
    const catalogues = this.loadCatalogues();
    if (status.unlocked) {
      await catalogues;
      await this.enterInventory();
    } else {
      this.screen = status.exists ? "unlock" : "create";
      await catalogues;
    }
  }

  async loadCatalogues() {
    const [platforms, permissions] = await Promise.all([ipc.listPlatforms(), ipc.listPermissions()]);
    this.platforms = platforms;
    this.permissions = permissions;
  }

  async enterInventory() {
    this.lockMessage = "";
    this.screen = "inventory";
    await this.reload();
    if (this.#pendingOpen) this.openEntry(this.#pendingOpen);
  }

  /** Shows one key (from a reminder or a finding): clears the filter so it is listed. */
  openEntry(id: string) {
    this.view = "keys";
    if (this.screen !== "inventory") {
      this.#pendingOpen = id;
      return;
    }
    this.#pendingOpen = null;
    if (!this.entries.some((e) => e.id === id)) return;
    if (this.filter.text || this.filter.platform || this.filter.environment || this.filter.status || this.filter.permission || this.filter.dueSoon) {
      this.resetFilter();
    }
    this.selectedId = id;
  }

  /** Shows one incident's walkthrough. */
  showIncident(id: string) {
    this.incidentId = id;
    this.selectedId = null;
    this.view = "incidents";
  }

  /** The Scan view, searching for an incident's keys (step 5). */
  scanForIncident(id: string) {
    this.scanIncident = id;
    this.selectedId = null;
    this.view = "scan";
  }

  /** Fetches the list again (after any change) and re-applies the filter. */
  async reload() {
    const list = await ipc.listEntries();
    this.entries = list.entries;
    this.dueWords = new Map(
      list.entries.flatMap((e, i) => (list.due_words[i] ? [[e.id, list.due_words[i]] as [string, string]] : [])),
    );
    this.version = list.version;
    clearTimeout(this.#midnight);
    const next = new Date();
    next.setHours(24, 0, 1, 0);
    this.#midnight = setTimeout(() => void this.reload().catch(() => {}), next.getTime() - Date.now());
    await this.applyFilter();
    if (this.selectedId && !this.entries.some((e) => e.id === this.selectedId)) this.selectedId = null;
  }

  /** Asks the backend which entries match; a newer keystroke wins. */
  async applyFilter() {
    const seq = ++this.#filterSeq;
    const f = this.filter;
    if (!f.text && !f.platform && !f.environment && !f.status && !f.permission && !f.dueSoon) {
      // Nothing to narrow by: every entry, without a round trip.
      this.matches = this.entries.map((_, i) => i);
      return;
    }
    try {
      const matches = await ipc.filterEntries(this.version, {
        text: f.text,
        platform: f.platform || undefined,
        environment: f.environment || undefined,
        status: f.status || undefined,
        permission: f.permission || undefined,
        due_within_days: f.dueSoon ? DUE_SOON_DAYS : undefined,
      });
      if (seq === this.#filterSeq) this.matches = matches;
    } catch (e) {
      if (e instanceof IpcFailure && e.code === "stale") await this.reload();
      else this.handle(e);
    }
  }

  resetFilter() {
    this.filter = emptyFilter();
    void this.applyFilter();
  }

  sortBy(key: SortKey) {
    if (this.sortKey === key) this.sortAscending = !this.sortAscending;
    else {
      this.sortKey = key;
      this.sortAscending = true;
    }
  }

  async lock() {
    await ipc.lockVault();
    this.locked("user");
  }

  /** The session is gone: forget everything the window held. */
  locked(reason: LockReason) {
    clearTimeout(this.#midnight);
    this.entries = [];
    this.dueWords = new Map();
    this.matches = [];
    this.version = 0;
    this.selectedId = null;
    this.dialog = null;
    this.view = "keys";
    this.incidentId = null;
    this.scanIncident = null;
    this.filter = emptyFilter();
    this.lockMessage = reason === "idle" ? "Locked after a period of inactivity." : "";
    this.screen = "unlock";
  }

  toast(text: string, kind: Toast["kind"] = "info") {
    const id = ++this.#toastSeq;
    // At most two at a time: the newest matter.
    this.toasts = [...this.toasts, { id, text, kind }].slice(-2);
    setTimeout(() => (this.toasts = this.toasts.filter((t) => t.id !== id)), kind === "error" ? 8000 : 3500);
  }

  /** Shows an unexpected failure; a locked session sends the user to unlock. */
  handle(e: unknown) {
    if (e instanceof IpcFailure && e.code === "locked") {
      this.locked("idle");
      return;
    }
    this.toast(e instanceof Error ? e.message : String(e), "error");
  }

  /** Calls the backend the usual way (see ./call): busy while it runs, field
   * errors on the form, a toast when done, any other failure handled here.
   * Resolves to the result, or `undefined` when it failed. */
  attempt<T>(work: () => Promise<T>, options?: AttemptOptions<T>): Promise<T | undefined> {
    return attemptWith(this, work, options);
  }

  riskOf(permission: string): string {
    return this.permissions.find((p) => p.name === permission)?.risk ?? "unknown";
  }
}

function sortValue(e: Entry, key: SortKey): string | number {
  switch (key) {
    case "platform":
      return `${e.platform.toLowerCase()}\u0000${e.label.toLowerCase()}`;
    case "label":
      return e.label.toLowerCase();
    case "environment":
      return e.environment;
    case "permissions":
      return e.permissions.length;
    case "ip":
      return e.ip_allowlist.length;
    case "next_due_at":
      // Keys with no due date sort after every dated key.
      return e.next_due_at ?? "\uffff";
    case "status":
      return e.status;
  }
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const app = new AppState();
