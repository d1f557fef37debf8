//! Typed operations: one function per action decom calls, with response models and paging.
//!
//! This module owns the step from "an action with typed arguments" to "an [`ApiRequest`]",
//! and from "the JSON the client returned" to typed models. It does not sign, send, retry
//! or classify anything: that is the client's job ([`ReadClient`], [`WriteClient`]).
//!
//! - [`vpc`] — Express Connect circuits, VBRs, router interfaces, BGP and IPsec-VPN
//!   (Vpc 2016-04-28, regional).
//! - [`cbn`] — CEN transit router attachments, route-table associations and propagations,
//!   route entries (Cbn 2017-09-12, global endpoint).
//! - [`cbn_prefix`] — CEN prefix-list associations and route polling by id.
//! - [`vpc_circuit`] — circuit-level blockers: MACsec keys, hosted connections, VBR failover
//!   groups (Vpc).
//! - [`cbn_health`] — CEN VBR health checks (Cbn).
//! - [`sts`] — `GetCallerIdentity`.
//! - [`ecr`] — Express Connect Router child instances (ExpressConnectRouter 2023-09-01,
//!   parameters in a form body); [`vpc_vbr`] — VBR associations with further circuits, VBR
//!   route-table routes, BGP networks, NQA (Vpc); [`cbn_basic`] — Basic-Edition CEN child
//!   instances (Cbn).
//!
//! Reads take a [`ReadClient`] (a [`WriteClient`] derefs to one); mutations take a
//! [`WriteClient`], so the read-only capability cannot even express a mutation.
//!
//! The shared pieces live here:
//! - list filters ([`filters`], [`filter_batches`], [`chunk_filter_values`]): the Vpc
//!   `Filter.N.Key` / `Filter.N.Value.M` flattening with its 5 × 5 limit;
//! - paging: [`all_pages`] (Vpc `PageNumber`/`PageSize`/`TotalCount`) and
//!   [`all_token_pages`] (Cbn `MaxResults`/`NextToken`), both tolerant of the documented
//!   empty shapes (`{"PhysicalConnectionSet": {}}`, an absent key, an empty array);
//! - [`string_or_number`], for fields that some responses send as numbers (owner UIDs).

pub mod cbn;
pub mod cbn_basic;
pub mod cbn_health;
pub mod cbn_prefix;
pub mod ecr;
pub mod sts;
pub mod vpc;
pub mod vpc_circuit;
pub mod vpc_vbr;

#[cfg(test)]
mod contract_tests;

use std::collections::HashSet;

use serde::Deserialize as _;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::Value;

use super::{ApiError, ApiRequest, CallError, ReadClient, WriteClient};

/// Items requested per page, by both paging styles (the documented maximum of every Vpc
/// `PageSize`; Cbn accepts up to 100 but 50 keeps pages the same size everywhere).
pub const PAGE_SIZE: usize = 50;

/// Most `Filter.N.Key`s one Vpc request may carry.
pub const MAX_FILTER_KEYS: usize = 5;

/// Most `Filter.N.Value.M`s per key in one Vpc request.
pub const MAX_FILTER_VALUES: usize = 5;

/// Most pages one listing may take before decom assumes the server is looping
/// (50 000 items at [`PAGE_SIZE`]).
pub const MAX_PAGES: usize = 1000;

// ---------------------------------------------------------------------------------------
// Filters

/// Flatten list filters into `Filter.N.Key` / `Filter.N.Value.M` parameters (both 1-based).
///
/// Values within one key are OR-ed by the API, keys are AND-ed. Keys without values are
/// left out (and do not use up a number). The API takes at most [`MAX_FILTER_KEYS`] keys and
/// [`MAX_FILTER_VALUES`] values per key; use [`filter_batches`] (or
/// [`chunk_filter_values`]) to split longer lists into several requests.
pub fn filters(keys: &[(&str, &[String])]) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let present = keys.iter().filter(|(_, values)| !values.is_empty());
    for (n, (key, values)) in present.enumerate() {
        debug_assert!(
            n < MAX_FILTER_KEYS,
            "more than {MAX_FILTER_KEYS} filter keys"
        );
        debug_assert!(
            values.len() <= MAX_FILTER_VALUES,
            "more than {MAX_FILTER_VALUES} values for filter key {key}"
        );
        let n = n + 1;
        params.push((format!("Filter.{n}.Key"), (*key).to_string()));
        for (m, value) in values.iter().enumerate() {
            params.push((format!("Filter.{n}.Value.{}", m + 1), value.clone()));
        }
    }
    params
}

/// Split filter values into chunks the API accepts (at most `per_request` each; a
/// `per_request` of 0 is treated as 1).
pub fn chunk_filter_values(
    values: &[String],
    per_request: usize,
) -> std::slice::Chunks<'_, String> {
    values.chunks(per_request.max(1))
}

/// The filter parameters of every request needed to cover `keys` when a key has more than
/// [`MAX_FILTER_VALUES`] values: the cross product of each key's value chunks. Because
/// values of one key are OR-ed and keys AND-ed, the union of the batches' results is
/// exactly the result of the whole filter, and no item matches two batches. Duplicate
/// values are dropped first. Always returns at least one (possibly empty) batch.
pub fn filter_batches(keys: &[(&str, &[String])]) -> Vec<Vec<(String, String)>> {
    let mut batches: Vec<Vec<(&str, Vec<String>)>> = vec![Vec::new()];
    for (key, values) in keys {
        let mut seen = HashSet::new();
        let unique: Vec<String> = values
            .iter()
            .filter(|v| seen.insert(v.as_str()))
            .cloned()
            .collect();
        if unique.is_empty() {
            continue;
        }
        batches = batches
            .into_iter()
            .flat_map(|batch| {
                chunk_filter_values(&unique, MAX_FILTER_VALUES)
                    .map(|chunk| {
                        let mut next = batch.clone();
                        next.push((*key, chunk.to_vec()));
                        next
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    batches
        .iter()
        .map(|batch| {
            let keys: Vec<(&str, &[String])> =
                batch.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            filters(&keys)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Paging

/// Pages of one page-number listing fetched at once once page 1 gave `TotalCount`.
pub const CONCURRENT_PAGES: usize = 32;

/// Every item of a page-number listing (Vpc `Describe*`).
///
/// Sends `req` with `PageNumber` = 1 and `PageSize` = [`PAGE_SIZE`], and takes the items at
/// `items` (a key path such as `["PhysicalConnectionSet", "PhysicalConnectionType"]`, or
/// `["VpnAttachments"]` for a flat array). When page 1 gives `TotalCount`, the other pages it
/// implies are fetched [`CONCURRENT_PAGES`] at a time (in page order in the result); then,
/// like without `TotalCount`, pages follow one by one until the items collected reach
/// `TotalCount` (items can shift while a listing is read), or, when `TotalCount` is absent,
/// until a page shorter than [`PAGE_SIZE`]; an empty page always stops it. More than
/// [`MAX_PAGES`] pages is an error. Errors: the first failed call.
pub async fn all_pages<T: DeserializeOwned>(
    client: &ReadClient,
    req: &ApiRequest,
    items: &[&str],
) -> Result<Vec<T>, CallError> {
    Ok(pages_within(client, req, items, usize::MAX)
        .await?
        .unwrap_or_default())
}

/// [`all_pages`], unless page 1's `TotalCount` implies more than `budget` calls in all:
/// then `None` after that one call (the caller asks another way, per parent). An answer
/// without `TotalCount` cannot be judged: every page is read, as by [`all_pages`]. Errors:
/// [`all_pages`]'.
pub async fn pages_within<T: DeserializeOwned>(
    client: &ReadClient,
    req: &ApiRequest,
    items: &[&str],
    budget: usize,
) -> Result<Option<Vec<T>>, CallError> {
    let paged = |page: usize| {
        req.clone()
            .param("PageNumber", page.to_string())
            .param("PageSize", PAGE_SIZE.to_string())
    };
    let mut all = Vec::new();
    let mut page = 1;
    // Page 1, and with TotalCount the pages it implies, concurrently.
    let first = client.call(&paged(1)).await?;
    let total = count_field(&first, "TotalCount");
    if total.is_some_and(|t| t.div_ceil(PAGE_SIZE) > budget) {
        return Ok(None);
    }
    let mut bodies = vec![first];
    if let Some(total) = total {
        let last = total.div_ceil(PAGE_SIZE).clamp(1, MAX_PAGES);
        let mut rest = (2..=last).collect::<Vec<_>>().into_iter();
        loop {
            let batch: Vec<usize> = rest.by_ref().take(CONCURRENT_PAGES).collect();
            if batch.is_empty() {
                break;
            }
            let mut set = tokio::task::JoinSet::new();
            for (i, p) in batch.iter().enumerate() {
                let (c, r) = (client.clone(), paged(*p));
                set.spawn(async move { (i, c.call(&r).await) });
            }
            let mut got: Vec<Option<Result<Value, CallError>>> = Vec::new();
            got.resize_with(batch.len(), || None);
            while let Some(joined) = set.join_next().await {
                let (i, body) = joined.expect("page task panicked");
                got[i] = Some(body);
            }
            // In page order: an empty page ends the listing (later pages, and their errors,
            // do not count); an error before it is the listing's error.
            let mut ended = false;
            for body in got.into_iter().flatten() {
                let body = body?;
                let empty =
                    items_at::<serde::de::IgnoredAny>(&req.action, &body, items)?.is_empty();
                bodies.push(body);
                if empty {
                    ended = true;
                    break;
                }
            }
            if ended {
                break;
            }
        }
        page = last;
    }
    for body in bodies {
        let batch: Vec<T> = items_at(&req.action, &body, items)?;
        let empty = batch.is_empty();
        all.extend(batch);
        if empty {
            return Ok(Some(all));
        }
    }
    loop {
        let got_all = match total {
            Some(total) => all.len() >= total,
            None => false,
        };
        if got_all {
            return Ok(Some(all));
        }
        if total.is_none() && all.len() < page * PAGE_SIZE {
            return Ok(Some(all));
        }
        page += 1;
        if page > MAX_PAGES {
            break;
        }
        let body = client.call(&paged(page)).await?;
        let batch: Vec<T> = items_at(&req.action, &body, items)?;
        let got = batch.len();
        all.extend(batch);
        if got == 0 || (total.is_none() && got < PAGE_SIZE) {
            return Ok(Some(all));
        }
    }
    Err(paging_error(
        &req.action,
        format!("still not at TotalCount after {MAX_PAGES} pages"),
    ))
}

/// Every item of a token listing (Cbn `List*`).
///
/// Sends `req` with `MaxResults` = [`PAGE_SIZE`], then again with each returned
/// `NextToken` while it is non-empty, taking the items at `items` (see [`all_pages`]). A
/// token the server already returned once is an error rather than an endless loop.
pub async fn all_token_pages<T: DeserializeOwned>(
    client: &ReadClient,
    req: &ApiRequest,
    items: &[&str],
) -> Result<Vec<T>, CallError> {
    token_pages_of(client, req, items, PAGE_SIZE).await
}

/// [`all_token_pages`] with `MaxResults` = `page_size`, for listings whose documented range
/// allows more than [`PAGE_SIZE`].
pub async fn token_pages_of<T: DeserializeOwned>(
    client: &ReadClient,
    req: &ApiRequest,
    items: &[&str],
    page_size: usize,
) -> Result<Vec<T>, CallError> {
    let first = token_first_page(client, req, items, page_size).await?;
    token_pages_after(client, req, items, page_size, first).await
}

/// The first page of a token listing: its items, the `TotalCount` it gives (when it does)
/// and the `NextToken` to go on with (`None` on the last page).
#[derive(Debug)]
pub struct TokenPage<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// `TotalCount`, when the answer has it.
    pub total: Option<usize>,
    /// `NextToken`, when non-empty.
    pub next: Option<String>,
}

impl<T> TokenPage<T> {
    /// Calls the whole listing takes at `page_size` items a call, by `TotalCount` (at least
    /// this one); `None` when the answer gave no `TotalCount` and more pages follow.
    pub fn calls(&self, page_size: usize) -> Option<usize> {
        match (self.total, &self.next) {
            (Some(t), _) => Some(t.div_ceil(page_size.max(1)).max(1)),
            (None, None) => Some(1),
            (None, Some(_)) => None,
        }
    }
}

/// Page 1 of a token listing (`MaxResults` = `page_size`). Errors: the call's.
pub async fn token_first_page<T: DeserializeOwned>(
    client: &ReadClient,
    req: &ApiRequest,
    items: &[&str],
    page_size: usize,
) -> Result<TokenPage<T>, CallError> {
    let body = client
        .call(&req.clone().param("MaxResults", page_size.to_string()))
        .await?;
    Ok(TokenPage {
        items: items_at::<T>(&req.action, &body, items)?,
        total: count_field(&body, "TotalCount"),
        next: next_token(&body),
    })
}

/// The rest of a token listing after its `first` page: its items followed by those of
/// every page its `NextToken`s lead to. A token the server already returned once is an
/// error rather than an endless loop. Errors: the first failed call.
pub async fn token_pages_after<T: DeserializeOwned>(
    client: &ReadClient,
    req: &ApiRequest,
    items: &[&str],
    page_size: usize,
    first: TokenPage<T>,
) -> Result<Vec<T>, CallError> {
    let mut all = first.items;
    let mut seen = HashSet::new();
    let mut token = first.next;
    while let Some(next) = token.take() {
        if !seen.insert(next.clone()) {
            return Err(paging_error(
                &req.action,
                format!("NextToken {next:?} was returned twice; stopping instead of looping"),
            ));
        }
        let paged = req
            .clone()
            .param("MaxResults", page_size.to_string())
            .param("NextToken", next);
        let body = client.call(&paged).await?;
        all.extend(items_at::<T>(&req.action, &body, items)?);
        token = next_token(&body);
    }
    Ok(all)
}

/// A token listing's non-empty `NextToken`.
fn next_token(body: &Value) -> Option<String> {
    body.get("NextToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// A listing that the server pages inconsistently: a 200 answer that breaks the paging
/// contract, reported like any other undocumented answer.
fn paging_error(action: &str, why: String) -> CallError {
    CallError::Decode {
        action: action.to_string(),
        status: 200,
        excerpt: why,
    }
}

// ---------------------------------------------------------------------------------------
// Decoding

/// The list at `path` in `body`. A missing key, `null`, `""`, `{}` or an empty array at any
/// level is an empty list; a one-key wrapper object left at the end is looked through.
fn items_at<T: DeserializeOwned>(
    action: &str,
    body: &Value,
    path: &[&str],
) -> Result<Vec<T>, CallError> {
    let mut at = body;
    for key in path {
        match at.get(key) {
            Some(next) => at = next,
            None => return Ok(Vec::new()),
        }
    }
    list_from(at.clone()).map_err(|e| CallError::Decode {
        action: action.to_string(),
        status: 200,
        excerpt: format!("{}: {e}", path.join(".")),
    })
}

/// A list that may come wrapped or empty: `[…]`, `{"Inner": […]}`, `{}`, `null`, `""`.
fn list_from<T: DeserializeOwned>(value: Value) -> Result<Vec<T>, serde_json::Error> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        Value::Object(map) if map.is_empty() => Ok(Vec::new()),
        Value::Object(map) if map.len() == 1 => {
            list_from(map.into_iter().next().map(|(_, v)| v).unwrap_or_default())
        }
        other => Err(de::Error::custom(format!(
            "expected a list, found {}",
            kind_of(&other)
        ))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserialize a lenient list field inside a model: the same shapes as [`all_pages`]
/// accepts (`{"AssociatedCen": […]}`, `{}`, absent, `null`, a plain array). Use with
/// `#[serde(default, deserialize_with = "wrapped_list")]`.
pub fn wrapped_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    list_from(value).map_err(de::Error::custom)
}

/// A count that may come as a number or a numeric string.
fn count_field(body: &Value, key: &str) -> Option<usize> {
    match body.get(key)? {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Decode a whole response body into a model.
fn decode<T: DeserializeOwned>(action: &str, body: Value) -> Result<T, CallError> {
    serde_json::from_value(body).map_err(|e| CallError::Decode {
        action: action.to_string(),
        status: 200,
        excerpt: e.to_string(),
    })
}

/// The `RequestId` of a response (empty when the body has none).
fn request_id(body: &Value) -> String {
    match body.get("RequestId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Send a mutation and return its `RequestId`.
async fn mutate(client: &WriteClient, req: ApiRequest) -> Result<String, CallError> {
    let body = client.call(&req).await?;
    Ok(request_id(&body))
}

/// Turn a 200 answer whose body says it failed (`"Success": false`) into the same
/// [`CallError::Api`] a 4xx would give, with the body's `Code`, `Message` and `RequestId`.
/// A body without a `Code` gets `OperationFailed` (classified fatal).
fn body_failure(action: &str, body: &Value) -> CallError {
    let text = |key: &str| match body.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    CallError::Api(Box::new(ApiError {
        action: action.to_string(),
        http_status: 200,
        code: text("Code").unwrap_or_else(|| "OperationFailed".to_string()),
        message: text("Message").unwrap_or_default(),
        request_id: text("RequestId"),
        host_id: None,
        recommend: None,
        access_denied_detail: None,
    }))
}

// ---------------------------------------------------------------------------------------
// Lenient scalars

/// Deserialize a field that some responses send as a string and others as a number (owner
/// UIDs such as `VbrOwnerUid`, `VbrOwnerId`, `VpnOwnerId`; ASNs; VLAN ids) into a `String`.
/// Integers keep all their digits; `null` becomes an empty string. Use with
/// `#[serde(default, deserialize_with = "string_or_number")]`.
pub fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Lenient;

    impl<'de> Visitor<'de> for Lenient {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a number")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
            d.deserialize_any(self)
        }
    }

    deserializer.deserialize_any(Lenient)
}

/// Deserialize a flag that may come as a JSON boolean or as `"true"`/`"false"`; anything
/// else (absent, `null`, another value) is `None`.
fn lenient_bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------

/// Resource tags as key → value.
pub type Tags = std::collections::BTreeMap<String, String>;

/// Deserialize tags in every shape the APIs use: a list of `{Key, Value}` (or
/// `{TagKey, TagValue}`), or an object wrapping such a list (`{"Tag": [...]}`,
/// `{"tags": [...]}`), or `null`/absent; anything else (a string) is no tags. Use with
/// `#[serde(deserialize_with = "tags")]` on the field the SDK model names; add
/// `alias = "Tag"` only where that response has no `Tags` key beside `Tag` (checked by the
/// maximal-body contract test: a body with both keys must decode).
pub fn tags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tags, D::Error> {
    fn collect(v: &serde_json::Value, out: &mut Tags) {
        match v {
            serde_json::Value::Array(items) => {
                for item in items {
                    let key = item
                        .get("Key")
                        .or_else(|| item.get("TagKey"))
                        .and_then(|k| k.as_str());
                    let value = item.get("Value").or_else(|| item.get("TagValue"));
                    if let Some(k) = key {
                        let value = match value {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(serde_json::Value::Null) | None => String::new(),
                            Some(other) => other.to_string(),
                        };
                        out.insert(k.to_string(), value);
                    }
                }
            }
            serde_json::Value::Object(map) => {
                for inner in map.values() {
                    collect(inner, out);
                }
            }
            _ => {}
        }
    }
    let value = serde_json::Value::deserialize(deserializer)?;
    let mut out = Tags::new();
    collect(&value, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::api::Product;
    use crate::api::testkit::{Script, ok};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn filters_flatten_one_based() {
        let ids = strings(&["pc-1", "pc-2"]);
        let status = strings(&["Enabled"]);
        let none: Vec<String> = Vec::new();
        let p = filters(&[
            ("PhysicalConnectionId", &ids),
            ("Name", &none),
            ("Status", &status),
        ]);
        let want: Vec<(String, String)> = [
            ("Filter.1.Key", "PhysicalConnectionId"),
            ("Filter.1.Value.1", "pc-1"),
            ("Filter.1.Value.2", "pc-2"),
            ("Filter.2.Key", "Status"),
            ("Filter.2.Value.1", "Enabled"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(p, want);
        assert!(filters(&[]).is_empty());
    }

    #[test]
    fn chunks_respect_the_limit() {
        let v = strings(&["a", "b", "c", "d", "e", "f", "g"]);
        let sizes: Vec<usize> = chunk_filter_values(&v, 5).map(<[String]>::len).collect();
        assert_eq!(sizes, vec![5, 2]);
        assert_eq!(chunk_filter_values(&v, 0).count(), 7);
    }

    #[test]
    fn batches_cover_the_cross_product_without_duplicates() {
        let ids: Vec<String> = (1..=7).map(|i| format!("vbr-{i}")).collect();
        let mut with_dup = ids.clone();
        with_dup.push("vbr-1".into());
        let status = strings(&["active", "terminated", "unconfirmed", "a", "b", "c"]);
        let batches = filter_batches(&[("VbrId", &with_dup), ("Status", &status)]);
        assert_eq!(batches.len(), 4, "2 chunks of ids × 2 chunks of statuses");
        let mut seen_ids = Vec::new();
        for b in &batches {
            assert_eq!(b[0], ("Filter.1.Key".to_string(), "VbrId".to_string()));
            let n_values = b
                .iter()
                .filter(|(k, _)| k.starts_with("Filter.1.Value."))
                .count();
            assert!(n_values <= MAX_FILTER_VALUES);
            seen_ids.extend(
                b.iter()
                    .filter(|(k, _)| k.starts_with("Filter.1.Value."))
                    .map(|(_, v)| v.clone()),
            );
        }
        seen_ids.sort();
        seen_ids.dedup();
        assert_eq!(seen_ids.len(), 7);
        assert_eq!(filter_batches(&[]), vec![Vec::new()]);
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Item {
        id: u32,
    }

    fn page(total: Option<usize>, ids: std::ops::Range<u32>) -> String {
        let items: Vec<Value> = ids.map(|i| json!({ "Id": i })).collect();
        let mut body = json!({
            "RequestId": "r",
            "Set": { "Type": items },
        });
        if let Some(t) = total {
            body["TotalCount"] = json!(t);
        }
        body.to_string()
    }

    #[tokio::test]
    async fn page_numbers_until_total_count() {
        let script = Script::new(vec![
            ok(&page(Some(120), 0..50)),
            ok(&page(Some(120), 50..100)),
            ok(&page(Some(120), 100..120)),
        ]);
        let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("cn-hangzhou");
        let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap();
        assert_eq!(items.len(), 120);
        assert_eq!(items[119], Item { id: 119 });
        let seen = script.seen();
        assert_eq!(seen.len(), 3);
        for (i, r) in seen.iter().enumerate() {
            assert_eq!(
                r.query_param("PageNumber"),
                Some((i + 1).to_string().as_str())
            );
            assert_eq!(r.query_param("PageSize"), Some("50"));
            assert_eq!(r.query_param("RegionId"), Some("cn-hangzhou"));
        }
    }

    #[tokio::test]
    async fn total_count_as_string_and_absent() {
        let with_string = json!({"TotalCount": "60", "Set": {"Type": (0..50).map(|i| json!({"Id": i})).collect::<Vec<_>>()}});
        let script = Script::new(vec![
            ok(&with_string.to_string()),
            ok(&page(Some(60), 50..60)),
        ]);
        let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("r");
        let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap();
        assert_eq!(items.len(), 60);
        assert_eq!(script.seen().len(), 2);

        // No TotalCount: a short page ends the listing.
        let script = Script::new(vec![ok(&page(None, 0..50)), ok(&page(None, 50..53))]);
        let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap();
        assert_eq!(items.len(), 53);
        assert_eq!(script.seen().len(), 2);

        // No TotalCount and exactly full pages: the empty page ends it.
        let script = Script::new(vec![ok(&page(None, 0..50)), ok(&page(None, 0..0))]);
        let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap();
        assert_eq!(items.len(), 50);
        assert_eq!(script.seen().len(), 2);
    }

    #[tokio::test]
    async fn pages_implied_by_total_count_are_fetched_together_and_kept_in_order() {
        let script = Script::new(vec![
            ok(&page(Some(180), 0..50)),
            ok(&page(Some(180), 50..100)),
            ok(&page(Some(180), 100..150)),
            ok(&page(Some(180), 150..180)),
        ]);
        let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("r");
        let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap();
        assert_eq!(items.len(), 180);
        assert!(
            items.windows(2).all(|w| w[0].id < w[1].id),
            "page order kept"
        );
        let pages: Vec<String> = script
            .seen()
            .iter()
            .map(|r| {
                crate::api::testkit::api_params(r)
                    .into_iter()
                    .find(|(k, _)| k == "PageNumber")
                    .map(|(_, v)| v)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(pages, ["1", "2", "3", "4"]);
    }

    #[tokio::test]
    async fn a_listing_over_its_budget_stops_after_page_one() {
        let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("r");
        // 500 items = 10 pages > a budget of 3: one call, then None.
        let script = Script::new(vec![ok(&page(Some(500), 0..50))]);
        let got: Option<Vec<Item>> = pages_within(&script.reader(), &req, &["Set", "Type"], 3)
            .await
            .unwrap();
        assert!(got.is_none());
        assert_eq!(script.seen().len(), 1);
        // 120 items = 3 pages, within a budget of 3: every item.
        let script = Script::new(vec![
            ok(&page(Some(120), 0..50)),
            ok(&page(Some(120), 50..100)),
            ok(&page(Some(120), 100..120)),
        ]);
        let got: Option<Vec<Item>> = pages_within(&script.reader(), &req, &["Set", "Type"], 3)
            .await
            .unwrap();
        assert_eq!(got.map(|v| v.len()), Some(120));
        assert_eq!(script.seen().len(), 3);
    }

    #[tokio::test]
    async fn empty_page_stops_even_below_total_count() {
        let script = Script::new(vec![
            ok(&page(Some(500), 0..50)),
            ok(r#"{"TotalCount":500}"#),
        ]);
        let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("r");
        let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap();
        assert_eq!(items.len(), 50);
        // Page 1, then the 9 pages TotalCount implies, CONCURRENT_PAGES at a time: the
        // empty page 2 ends the listing (the other answers of its batch are not used).
        assert_eq!(script.seen().len(), 1 + CONCURRENT_PAGES.min(9));
    }

    #[tokio::test]
    async fn absent_or_empty_wrappers_are_empty_lists() {
        for body in [
            r#"{"RequestId":"r","TotalCount":0,"Set":{}}"#,
            r#"{"RequestId":"r","TotalCount":0,"Set":{"Type":[]}}"#,
            r#"{"RequestId":"r","Set":null}"#,
            r#"{"RequestId":"r","Set":""}"#,
            r#"{"RequestId":"r","Set":{"Type":null}}"#,
            r#"{"RequestId":"r"}"#,
        ] {
            let script = Script::new(vec![ok(body)]);
            let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("r");
            let items: Vec<Item> = all_pages(&script.reader(), &req, &["Set", "Type"])
                .await
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(items.is_empty(), "{body}");
            assert_eq!(script.seen().len(), 1, "{body}");
        }
    }

    #[tokio::test]
    async fn a_wrong_shape_is_a_decode_error_naming_the_path() {
        let script = Script::new(vec![ok(r#"{"Set":{"Type":42}}"#)]);
        let req = ApiRequest::new(Product::Vpc, "DescribeThings").region("r");
        let e = all_pages::<Item>(&script.reader(), &req, &["Set", "Type"])
            .await
            .unwrap_err();
        assert!(matches!(e, CallError::Decode { status: 200, .. }), "{e}");
        assert!(e.to_string().contains("Set.Type"), "{e}");
    }

    fn token_page(ids: std::ops::Range<u32>, next: &str) -> String {
        let items: Vec<Value> = ids.map(|i| json!({ "Id": i })).collect();
        json!({"RequestId": "r", "NextToken": next, "MaxResults": 50, "Items": items}).to_string()
    }

    #[tokio::test]
    async fn next_token_paging_across_three_pages() {
        let script = Script::new(vec![
            ok(&token_page(0..50, "t1")),
            ok(&token_page(50..100, "t2")),
            ok(&token_page(100..110, "")),
        ]);
        let req = ApiRequest::new(Product::Cbn, "ListThings").param("RegionId", "cn-hangzhou");
        let items: Vec<Item> = all_token_pages(&script.reader(), &req, &["Items"])
            .await
            .unwrap();
        assert_eq!(items.len(), 110);
        let seen = script.seen();
        assert_eq!(seen.len(), 3);
        let tokens: Vec<Option<&str>> = seen.iter().map(|r| r.query_param("NextToken")).collect();
        assert_eq!(tokens, vec![None, Some("t1"), Some("t2")]);
        for r in &seen {
            assert_eq!(r.query_param("MaxResults"), Some("50"));
            assert_eq!(r.query_param("RegionId"), Some("cn-hangzhou"));
        }
    }

    #[tokio::test]
    async fn absent_next_token_ends_and_empty_array_is_fine() {
        let script = Script::new(vec![ok(r#"{"RequestId":"r","Items":[]}"#)]);
        let req = ApiRequest::new(Product::Cbn, "ListThings");
        let items: Vec<Item> = all_token_pages(&script.reader(), &req, &["Items"])
            .await
            .unwrap();
        assert!(items.is_empty());
        assert_eq!(script.seen().len(), 1);
    }

    #[tokio::test]
    async fn repeated_next_token_is_an_error_not_a_loop() {
        let script = Script::new(vec![
            ok(&token_page(0..50, "t1")),
            ok(&token_page(50..100, "t2")),
            ok(&token_page(100..150, "t1")),
            ok(&token_page(0..50, "t2")),
        ]);
        let req = ApiRequest::new(Product::Cbn, "ListThings");
        let e = all_token_pages::<Item>(&script.reader(), &req, &["Items"])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("\"t1\" was returned twice"), "{e}");
        assert_eq!(script.seen().len(), 3);
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, rename_all = "PascalCase")]
    struct Owner {
        #[serde(deserialize_with = "string_or_number")]
        vbr_owner_uid: String,
        #[serde(deserialize_with = "string_or_number")]
        vpn_owner_id: String,
        #[serde(deserialize_with = "wrapped_list")]
        list: Vec<u8>,
    }

    #[test]
    fn lenient_owner_ids_and_wrapped_lists() {
        let o: Owner = serde_json::from_str(
            r#"{"VbrOwnerUid": 1234567890123456, "VpnOwnerId": "42", "List": {"Inner": [1, 2]}}"#,
        )
        .unwrap();
        assert_eq!(o.vbr_owner_uid, "1234567890123456");
        assert_eq!(o.vpn_owner_id, "42");
        assert_eq!(o.list, vec![1, 2]);
        let o: Owner =
            serde_json::from_str(r#"{"VbrOwnerUid": null, "List": {}, "Other": true}"#).unwrap();
        assert_eq!(o, Owner::default());
        let o: Owner =
            serde_json::from_str(&format!(r#"{{"VbrOwnerUid": {}}}"#, u64::MAX)).unwrap();
        assert_eq!(o.vbr_owner_uid, u64::MAX.to_string());
        assert!(serde_json::from_str::<Owner>(r#"{"VpnOwnerId": [1]}"#).is_err());
    }

    #[test]
    fn body_failure_keeps_code_message_and_request_id() {
        let body = json!({"RequestId": "R1", "Code": "VpnConnection.Configuring", "Success": false, "Message": "busy"});
        let e = body_failure("DeleteVpnAttachment", &body);
        let api = e.api().unwrap();
        assert_eq!(api.code, "VpnConnection.Configuring");
        assert_eq!(api.http_status, 200);
        assert_eq!(api.message, "busy");
        assert_eq!(api.request_id.as_deref(), Some("R1"));
        let e = body_failure("DeleteVpnAttachment", &json!({"Success": false}));
        assert_eq!(e.code(), Some("OperationFailed"));
        assert_eq!(lenient_bool(Some(&json!("FALSE"))), Some(false));
        assert_eq!(lenient_bool(Some(&json!(1))), None);
        assert_eq!(lenient_bool(None), None);
    }
}
