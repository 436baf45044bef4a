/**
 * The only module that calls `invoke`: one typed function per command,
 * named as in Rust. Types come from ./bindings, generated from the Rust
 * types (never written here by hand). Every failure becomes an `IpcFailure`
 * carrying the backend's `{ code, message, fields }`.
 */
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { CopyReceipt } from "./bindings/CopyReceipt";
import type { Draft } from "./bindings/Draft";
import type { Entry } from "./bindings/Entry";
import type { EntryList } from "./bindings/EntryList";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { FieldError } from "./bindings/FieldError";
import type { DueReason } from "./bindings/DueReason";
import type { FilterInput } from "./bindings/FilterInput";
import type { Finding } from "./bindings/Finding";
import type { HistoryItem } from "./bindings/HistoryItem";
import type { IpcError } from "./bindings/IpcError";
import type { LockReason } from "./bindings/LockReason";
import type { PassphraseVerdict } from "./bindings/PassphraseVerdict";
import type { PermissionInfo } from "./bindings/PermissionInfo";
import type { Platform } from "./bindings/Platform";
import type { RevealedSecret } from "./bindings/RevealedSecret";
import type { Rotation } from "./bindings/Rotation";
import type { Step } from "./bindings/Step";
import type { SecretFieldInput } from "./bindings/SecretFieldInput";
import type { Severity } from "./bindings/Severity";
import type { Settings } from "./bindings/Settings";
import type { VaultStatus } from "./bindings/VaultStatus";
import type { Checks } from "./bindings/Checks";
import type { Decision } from "./bindings/Decision";
import type { Detail } from "./bindings/Detail";
import type { FollowUp } from "./bindings/FollowUp";
import type { Item } from "./bindings/Item";
import type { BackupStatus } from "./bindings/BackupStatus";
import type { BackupDone } from "./bindings/BackupDone";
import type { NewRecoveryCode } from "./bindings/NewRecoveryCode";
import type { AuditStatus } from "./bindings/AuditStatus";
import type { Rekeyed } from "./bindings/Rekeyed";
import type { Summary as BackupSummary } from "./bindings/Summary";
import type { Incident } from "./bindings/Incident";
import type { IncidentStep } from "./bindings/IncidentStep";
import type { IncidentStepId } from "./bindings/IncidentStepId";
import type { IncidentSummary } from "./bindings/IncidentSummary";
import type { RootCause } from "./bindings/RootCause";
import type { Activity } from "./bindings/Activity";
import type { Overview } from "./bindings/Overview";
import type { KeySnapshot } from "./bindings/KeySnapshot";
import type { Review } from "./bindings/Review";
import type { ReviewHome } from "./bindings/ReviewHome";
import type { ReviewScope } from "./bindings/ReviewScope";
import type { ScanStatus } from "./bindings/ScanStatus";
import type { ScanLocation } from "./bindings/ScanLocation";
import type { ScanMatch } from "./bindings/ScanMatch";
import type { Skipped } from "./bindings/Skipped";
import type { LeakCopy } from "./bindings/LeakCopy";
import type { Status } from "./bindings/Status";
import type { StepState } from "./bindings/StepState";
import type { ReviewFormat } from "./bindings/ReviewFormat";
import type { IncidentFormat } from "./bindings/IncidentFormat";

export type {
  LeakCopy,
  Status,
  StepState,
  ReviewFormat,
  IncidentFormat,
  ScanStatus,
  ScanLocation,
  ScanMatch,
  Skipped,
  Checks,
  Decision,
  Detail,
  FollowUp,
  Item,
  BackupStatus,
  BackupDone,
  BackupSummary,
  NewRecoveryCode,
  AuditStatus,
  Rekeyed,
  Incident,
  IncidentStep,
  IncidentStepId,
  IncidentSummary,
  RootCause,
  Activity,
  KeySnapshot,
  Overview,
  Review,
  ReviewHome,
  ReviewScope,
  CopyReceipt,
  Draft,
  DueReason,
  Entry,
  EntryList,
  ErrorCode,
  FieldError,
  FilterInput,
  Finding,
  HistoryItem,
  LockReason,
  PassphraseVerdict,
  PermissionInfo,
  Platform,
  RevealedSecret,
  Rotation,
  SecretFieldInput,
  Settings,
  Severity,
  Step,
  VaultStatus,
};

export class IpcFailure extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[];
  constructor(e: IpcError) {
    super(e.message);
    this.code = e.code;
    this.fields = e.fields;
  }
  /** The backend's reason for one field, if it named that field. */
  field(name: string): string | undefined {
    return this.fields.find((f) => f.field === name)?.reason;
  }
}

function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (isIpcError(e)) throw new IpcFailure({ ...e, fields: e.fields ?? [] });
    throw new IpcFailure({ code: "internal", message: String(e), fields: [] });
  }
}

/** A channel the backend pushes messages into (a scan's progress). */
function channel<T>(onMessage: (m: T) => void): Channel<T> {
  const c = new Channel<T>();
  c.onmessage = onMessage;
  return c;
}

export const ipc = {
  getVaultStatus: () => call<VaultStatus>("get_vault_status"),
  ratePassphrase: (passphrase: string) => call<PassphraseVerdict>("rate_passphrase", { passphrase }),
  createVault: (passphrase: string, confirm: string) => call<void>("create_vault", { passphrase, confirm }),
  unlockVault: (passphrase: string) => call<void>("unlock_vault", { passphrase }),
  lockVault: () => call<void>("lock_vault"),
  listEntries: () => call<EntryList>("list_entries"),
  filterEntries: (version: number, filter: FilterInput) => call<number[]>("filter_entries", { version, filter }),
  addEntry: (draft: Draft, secrets: SecretFieldInput[]) => call<Entry>("add_entry", { draft, secrets }),
  editEntry: (id: string, draft: Draft, setSecrets: SecretFieldInput[], removeSecrets: string[]) =>
    call<Entry>("edit_entry", { id, draft, setSecrets, removeSecrets }),
  setEntryStatus: (id: string, status: Status) => call<Entry>("set_entry_status", { id, status }),
  deleteEntry: (id: string) => call<void>("delete_entry", { id }),
  /** `newKey`: during a rotation, the new key's field rather than the current one's. */
  copySecret: (id: string, field: string, newKey = false) => call<CopyReceipt>("copy_secret", { id, field, newKey }),
  revealSecret: (id: string, field: string, newKey = false) =>
    call<RevealedSecret>("reveal_secret", { id, field, newKey }),
  getSettings: () => call<Settings>("get_settings"),
  /** `current`: the vault passphrase, needed only to change where automatic backups go or to whom. */
  saveSettings: (settings: Settings, current: string | null = null) => call<Settings>("save_settings", { settings, current }),
  listPlatforms: () => call<Platform[]>("list_platforms"),
  listPermissions: () => call<PermissionInfo[]>("list_permissions"),
  noteActivity: () => call<void>("note_activity"),
  /** `pageMs`: the page's own clock, from navigation start to its first paint. */
  reportFirstPaint: (pageMs: number) => call<void>("report_first_paint", { pageMs }),
  getRotation: (id: string) => call<Rotation | null>("get_rotation", { id }),
  rotationHistory: (id: string) => call<HistoryItem[]>("rotation_history", { id }),
  startRotation: (id: string) => call<Rotation>("start_rotation", { id }),
  describeNewKey: (id: string, permissions: string[] | null, ipAllowlist: string[] | null, keyIdHint: string | null) =>
    call<Rotation>("describe_new_key", { id, permissions, ipAllowlist, keyIdHint }),
  stageNewSecrets: (id: string, secrets: SecretFieldInput[]) => call<Rotation>("stage_new_secrets", { id, secrets }),
  advanceRotation: (id: string, step: Extract<Step, "deploy" | "confirm" | "revoke">) => call<Rotation>("advance_rotation", { id, step }),
  completeRotation: (id: string) => call<Entry>("complete_rotation", { id }),
  cancelRotation: (id: string) => call<Entry>("cancel_rotation", { id }),
  /** Returns until when (RFC 3339). */
  snoozeReminders: (id: string, days: number) => call<string>("snooze_reminders", { id, days }),
  /** What is risky about each key, worst first. */
  listFindings: () => call<Finding[]>("list_findings"),
  /** The review screen's overview, past reviews and open follow-ups. */
  reviewHome: () => call<ReviewHome>("review_home"),
  startReview: (reviewer: string, scope: ReviewScope) => call<Detail>("start_review", { reviewer, scope }),
  getReview: (id: string) => call<Detail>("get_review", { id }),
  saveReviewChecks: (id: string, key: string, checks: Checks) => call<void>("save_review_checks", { id, key, checks }),
  decideReview: (id: string, key: string, decision: Decision, note: string | null, checks: Checks | null) =>
    call<Item>("decide_review", { id, key, decision, note, checks }),
  finishReview: (id: string) => call<Detail>("finish_review", { id }),
  cancelReview: (id: string) => call<void>("cancel_review", { id }),
  /** Settles a key's open follow-up (revoke: marks the key revoked). */
  resolveFollowup: (key: string) => call<FollowUp>("resolve_followup", { key }),
  /** Writes the report into the Downloads folder; returns its path. */
  exportReview: (id: string, format: ReviewFormat) => call<string>("export_review", { id, format }),
  backupStatus: () => call<BackupStatus>("backup_status"),
  /** `recipients`: age public keys; empty → the passphrase (with its confirmation). `current`: the vault passphrase, checked now. */
  createBackup: (folder: string, passphrase: string, confirm: string, recipients: string[], current: string) =>
    call<BackupDone>("create_backup", { folder, passphrase, confirm, recipients, current }),
  verifyBackup: (file: string, passphrase: string) => call<BackupSummary>("verify_backup", { file, passphrase }),
  restoreBackup: (file: string, passphrase: string, folder: string, newPassphrase: string, confirm: string) =>
    call<BackupSummary>("restore_backup", { file, passphrase, folder, newPassphrase, confirm }),
  /** Returned once: shown to be written down, kept nowhere. */
  createRecoveryCode: (current: string) => call<NewRecoveryCode>("create_recovery_code", { current }),
  removeRecoveryCode: () => call<boolean>("remove_recovery_code"),
  rememberDevice: (current: string) => call<void>("remember_device", { current }),
  forgetDevice: () => call<boolean>("forget_device"),
  unlockWithKeyring: () => call<void>("unlock_with_keyring"),
  /** A new vault identity; the new recovery code (shown once) when asked for. `current`: the vault passphrase. */
  rekeyVault: (current: string, newRecoveryCode: boolean) => call<Rekeyed>("rekey_vault", { current, newRecoveryCode }),
  /** Walks the audit chain; its head (`SEQ:HASH`). */
  auditStatus: () => call<AuditStatus>("audit_status"),
  /** Proves the log still holds `expect` (`SEQ:HASH` from a report or a backup). */
  verifyAuditHead: (expect: string) => call<AuditStatus>("verify_audit_head", { expect }),
  listIncidents: () => call<IncidentSummary[]>("list_incidents"),
  getIncident: (id: string) => call<Incident>("get_incident", { id }),
  /** `suspectedAt`: `YYYY-MM-DD` or RFC 3339; `source`: how it was noticed. */
  openIncident: (keys: string[], suspectedAt: string | null, note: string | null, source: "manual" | "leak_scan" = "manual") =>
    call<Incident>("open_incident", { keys, suspectedAt, note, source }),
  /** Places worth scanning that exist here (histories, ~/.config, Downloads…). */
  scanLocations: () => call<ScanLocation[]>("scan_locations"),
  /** Starts a leak scan for every key (`keys` empty), some keys, or an incident's keys;
   * `onProgress` gets what changed every quarter second until it ends. */
  startScan: (paths: string[], keys: string[], incident: string | null, onProgress: (s: ScanStatus) => void) =>
    call<ScanStatus>("start_scan", { paths, keys, incident, progress: channel(onProgress) }),
  /** The current or last scan, with copies and skipped files after the ones already had. */
  scanStatus: (since: number, skippedSince: number) => call<ScanStatus | null>("scan_status", { since, skippedSince }),
  /** Follows the running scan `scan` from where the lists held end; false if it is not running. */
  watchScan: (scan: number, since: number, skippedSince: number, onProgress: (s: ScanStatus) => void) =>
    call<boolean>("watch_scan", { scan, since, skippedSince, progress: channel(onProgress) }),
  cancelScan: () => call<void>("cancel_scan"),
  /** Shows the file of the `index`th copy in the file manager. */
  revealScanMatch: (scan: number, index: number) => call<void>("reveal_scan_match", { scan, index }),
  /** The file is searched again first; `anyway` accepts a copy still there. */
  resolveScanMatch: (scan: number, index: number, anyway: boolean) => call<number[]>("resolve_scan_match", { scan, index, anyway }),
  /** Copies kept from earlier scans, not resolved (where, never what). */
  leakCopies: () => call<LeakCopy[]>("leak_copies"),
  /** Checked like `resolveScanMatch`. */
  resolveLeakCopy: (id: number, anyway: boolean) => call<void>("resolve_leak_copy", { id, anyway }),
  markIncidentStep: (
    id: string,
    step: IncidentStepId,
    status: Exclude<StepState, "pending">,
    note: string | null,
    activity: Activity | null = null,
    rootCause: RootCause | null = null,
  ) => call<Incident>("mark_incident_step", { id, step, status, note, activity, rootCause }),
  /** Writes the report into the Downloads folder; returns its path. */
  exportIncident: (id: string, format: IncidentFormat) => call<string>("export_incident", { id, format }),
  /** Copies the summary (no secrets) to the clipboard, in Rust. */
  copyIncidentSummary: (id: string) => call<void>("copy_incident_summary", { id }),
  /** A reminder's "Open" was clicked: show that key. */
  onOpenEntry: (handler: (id: string) => void): Promise<UnlistenFn> =>
    listen<string>("open-entry", (e) => handler(e.payload)),
  /** Called when the backend locks the session (idle timer or another window). */
  onLocked: (handler: (reason: LockReason) => void): Promise<UnlistenFn> =>
    listen<LockReason>("vault-locked", (e) => handler(e.payload)),
};
