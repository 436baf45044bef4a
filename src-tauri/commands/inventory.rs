//! The key inventory: list, filter, add, edit, status, delete.

use keyward_core::inventory::{
    self, Draft, Entry, Environment, Filter, Permission, SearchIndex, SecretChanges, SecretInput,
    Status,
};
use keyward_core::reminder as reminders;
use keyward_core::SecretValue;
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use super::now;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::{AppState, Listing};

#[derive(Debug, Serialize, TS)]
pub struct EntryList {
    /// Pass back to `filter_entries`; a newer list makes an older version stale.
    pub version: u32,
    pub entries: Vec<Entry>,
    /// How each entry's due date reads now ("due tomorrow"), counted in
    /// calendar days in the user's time zone; `null` for none. Index-aligned
    /// with `entries`.
    pub due_words: Vec<Option<String>>,
}

/// A secret typed into the form: the one direction a value crosses IPC
/// besides `reveal_secret`. Consumed at once into a zeroizing `SecretValue`.
#[derive(Deserialize, TS)]
pub struct SecretFieldInput {
    pub field: String,
    pub value: String,
}

impl std::fmt::Debug for SecretFieldInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretFieldInput")
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

pub(crate) fn into_inputs(inputs: Vec<SecretFieldInput>) -> Vec<SecretInput> {
    inputs
        .into_iter()
        .map(|i| SecretInput {
            field: i.field,
            value: SecretValue::new(i.value.into_bytes()),
        })
        .collect()
}

/// What the window narrows the list to. Unknown values are a field error.
#[derive(Debug, Default, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields)]
pub struct FilterInput {
    pub text: String,
    pub platform: Option<String>,
    pub environment: Option<String>,
    pub status: Option<String>,
    pub permission: Option<String>,
    pub due_within_days: Option<u32>,
}

impl FilterInput {
    fn into_filter(self) -> IpcResult<Filter> {
        let field_err = |field: &'static str, reason: String| {
            IpcError::invalid(vec![inventory::FieldError { field, reason }])
        };
        Ok(Filter {
            text: self.text,
            platform: self.platform.filter(|p| !p.is_empty()),
            environment: self
                .environment
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<Environment>())
                .transpose()
                .map_err(|r| field_err("environment", r))?,
            status: self
                .status
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<Status>())
                .transpose()
                .map_err(|r| field_err("status", r))?,
            permission: self
                .permission
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<Permission>())
                .transpose()
                .map_err(|r| field_err("permission", r))?,
            due_within_days: self.due_within_days,
        })
    }
}

/// Every entry, in list order; remembered with its search index for filtering.
#[tauri::command]
pub fn list_entries(state: State<'_, AppState>) -> IpcResult<EntryList> {
    let version = state.next_listing_version();
    state.with_unlocked(|u| {
        let entries = inventory::list(&u.vault)?;
        let cal = reminders::Calendar::new(&u.settings, reminders::TimeZone::system());
        let due_words = cal.due_words(entries.iter().map(|e| e.next_due_at), now());
        let index = SearchIndex::new(&entries);
        u.listing = Some(Listing {
            version,
            entries: entries.clone(),
            index,
        });
        Ok(EntryList {
            version: u32::try_from(version).unwrap_or(u32::MAX),
            entries,
            due_words,
        })
    })
}

/// Positions (in the list of `version`) of the entries that match.
#[tauri::command]
pub fn filter_entries(
    state: State<'_, AppState>,
    version: u32,
    filter: FilterInput,
) -> IpcResult<Vec<u32>> {
    let filter = filter.into_filter()?;
    state.with_unlocked(|u| {
        let Some(listing) = u
            .listing
            .as_ref()
            .filter(|l| l.version == u64::from(version))
        else {
            return Err(IpcError::new(
                ErrorCode::Stale,
                "the list changed; reload it",
            ));
        };
        Ok(listing
            .index
            .filter(&listing.entries, &filter, now())
            .into_iter()
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect())
    })
}

#[tauri::command]
pub fn add_entry(
    state: State<'_, AppState>,
    draft: Draft,
    secrets: Vec<SecretFieldInput>,
) -> IpcResult<Entry> {
    let secrets = into_inputs(secrets);
    state.mutate(|u| Ok(inventory::add(&mut u.vault, &draft, secrets, now())?))
}

#[tauri::command]
pub fn edit_entry(
    state: State<'_, AppState>,
    id: String,
    draft: Draft,
    set_secrets: Vec<SecretFieldInput>,
    remove_secrets: Vec<String>,
) -> IpcResult<Entry> {
    let changes = SecretChanges {
        set: into_inputs(set_secrets),
        remove: remove_secrets,
    };
    state.mutate(|u| Ok(inventory::edit(&mut u.vault, &id, &draft, changes, now())?))
}

#[tauri::command]
pub fn set_entry_status(
    state: State<'_, AppState>,
    id: String,
    status: Status,
) -> IpcResult<Entry> {
    state.mutate(|u| {
        Ok(keyward_core::lifecycle::set_status(
            &mut u.vault,
            &id,
            status,
            now(),
        )?)
    })
}

#[tauri::command]
pub fn delete_entry(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    state.mutate(|u| Ok(inventory::delete(&mut u.vault, &id, now())?))
}
