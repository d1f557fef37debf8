//! What every operation handler shares: the request view ([`Ctx`]: parameters, paging,
//! filters), error answers ([`Fail`]), response paging shapes, and the dispatch table built
//! from the kinds' operation rows ([`lookup`]). The handlers themselves live with their
//! resource kind, in [`super::kinds`].

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::kinds;
use super::state::State;
use crate::api::Product;

/// An error answer: HTTP status, Code, Message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    /// HTTP status.
    pub status: u16,
    /// `Code`.
    pub code: String,
    /// `Message`.
    pub message: String,
}

/// Build a [`Fail`].
pub fn fail(status: u16, code: &str, message: impl Into<String>) -> Fail {
    Fail {
        status,
        code: code.to_string(),
        message: message.into(),
    }
}

/// What a handler sees of the request.
pub struct Ctx<'a> {
    /// The API parameters (common signature parameters removed).
    pub params: &'a [(String, String)],
    /// The emulator's clock.
    pub now: Instant,
    /// The operation's required parameters ([`Operation::required`]).
    pub required: &'a [&'a str],
}

/// The API gateway's answer to a request without a mandatory parameter.
pub fn missing(key: &str) -> Fail {
    fail(
        400,
        &format!("Missing{key}"),
        format!("{key} is mandatory for this action."),
    )
}

/// A handler's answer: the response body, or an error.
pub type Res = Result<Value, Fail>;

/// An operation handler.
pub type Handler = fn(&mut State, &Ctx<'_>) -> Res;

impl Ctx<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The first required parameter the request lacks, as the gateway answers it: 400
    /// `Missing<Name>`, "`<Name>` is mandatory for this action." (checked before the handler).
    pub fn check_required(&self) -> Result<(), Fail> {
        match self.required.iter().find(|k| self.get(k).is_none()) {
            Some(key) => Err(missing(key)),
            None => Ok(()),
        }
    }

    /// A parameter the operation declares required (so present once [`Ctx::check_required`]
    /// passed). Reading an undeclared one this way is a bug in the handler: the declared
    /// list is what the contract test compares with the SDKs' metadata.
    pub(crate) fn req(&self, key: &str) -> Result<&str, Fail> {
        debug_assert!(
            self.required.contains(&key),
            "{key} is read as required but not declared in the operation's required list"
        );
        self.get(key).ok_or_else(|| missing(key))
    }

    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// PageNumber (≥ 1, default 1) and PageSize (1..=50, default 10).
    pub(crate) fn page(&self) -> Result<(usize, usize), Fail> {
        let number = match self.get("PageNumber") {
            None => 1,
            Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                fail(
                    400,
                    "InvalidPageNumber",
                    "The specified PageNumber is invalid.",
                )
            })?,
        };
        let size = match self.get("PageSize") {
            None => 10,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| {
                    fail(
                        400,
                        "InvalidPageSize",
                        "The specified PageSize is invalid; it must be 1 to 50.",
                    )
                })?,
        };
        Ok((number, size))
    }

    /// `Filter.N.Key` / `Filter.N.Value.M` (N, M ≤ 5): key → accepted values.
    pub(crate) fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, Fail> {
        let mut keys: BTreeMap<u32, String> = BTreeMap::new();
        let mut values: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (k, v) in self.params {
            let Some(rest) = k.strip_prefix("Filter.") else {
                continue;
            };
            let mut parts = rest.split('.');
            let n: u32 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            if !(1..=5).contains(&n) {
                return Err(fail(
                    400,
                    "InvalidFilterKey.ValueNotSupported",
                    format!("The filter index in {k} is out of range 1..5."),
                ));
            }
            match (parts.next(), parts.next()) {
                (Some("Key"), None) => {
                    keys.insert(n, v.clone());
                }
                (Some("Value"), Some(m)) => {
                    let m: u32 = m.parse().unwrap_or(0);
                    if !(1..=5).contains(&m) {
                        return Err(fail(
                            400,
                            "InvalidFilterValue",
                            format!("The filter value index in {k} is out of range 1..5."),
                        ));
                    }
                    values.entry(n).or_default().push(v.clone());
                }
                _ => {
                    return Err(fail(
                        400,
                        "InvalidFilterKey.ValueNotSupported",
                        format!("Malformed filter parameter {k}."),
                    ));
                }
            }
        }
        Ok(keys
            .into_iter()
            .map(|(n, key)| (key, values.remove(&n).unwrap_or_default()))
            .collect())
    }

    /// `MaxResults` (default `default`, 1..=100) and `NextToken` (an offset we issued).
    pub(crate) fn token_page(&self, default: usize) -> Result<(usize, usize), Fail> {
        let max = match self.get("MaxResults") {
            None => default,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    fail(
                        400,
                        "IllegalParam.MaxResults",
                        "The specified MaxResults is invalid.",
                    )
                })?,
        };
        let start = match self.get("NextToken") {
            None => 0,
            Some(t) => t
                .strip_prefix("nt-")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    fail(
                        400,
                        "IllegalParam.NextToken",
                        "The specified NextToken is invalid.",
                    )
                })?,
        };
        Ok((start, max))
    }
}

/// Does `value` pass the filter values for `key` (no filter on that key → yes)?
pub(crate) fn pass(filters: &BTreeMap<String, Vec<String>>, key: &str, value: &str) -> bool {
    filters
        .get(key)
        .is_none_or(|vals| vals.is_empty() || vals.iter().any(|v| v == value))
}

/// One page of a page-number list, with its wrapper object. `items` are the listing's
/// matches in order, filtered but not rendered: only those on the requested page go through
/// `render`, the others are only counted (`TotalCount`).
pub(crate) fn paged<T>(
    items: impl IntoIterator<Item = T>,
    (number, size): (usize, usize),
    outer: &str,
    inner: &str,
    render: impl FnMut(T) -> Value,
) -> Value {
    let (total, page) = page_of(items, (number - 1).saturating_mul(size), size, render);
    json!({ "PageNumber": number, "PageSize": size, "TotalCount": total, outer: { inner: page } })
}

/// One page of a token list (Cbn style: a flat array plus `NextToken`); `items` and `render`
/// as in [`paged`].
pub(crate) fn token_paged<T>(
    items: impl IntoIterator<Item = T>,
    (start, max): (usize, usize),
    key: &str,
    render: impl FnMut(T) -> Value,
) -> Value {
    let (total, page) = page_of(items, start, max, render);
    let next = if start.saturating_add(max) < total {
        format!("nt-{}", start + max)
    } else {
        String::new()
    };
    json!({ "TotalCount": total, "MaxResults": max, "NextToken": next, key: page })
}

/// How many `items` there are, and the rendering of the `size` of them from position `start`
/// (the others are never rendered).
pub(crate) fn page_of<T>(
    items: impl IntoIterator<Item = T>,
    start: usize,
    size: usize,
    mut render: impl FnMut(T) -> Value,
) -> (usize, Vec<Value>) {
    let mut total = 0;
    let mut page = Vec::new();
    for item in items {
        if total >= start && page.len() < size {
            page.push(render(item));
        }
        total += 1;
    }
    (total, page)
}

/// The creation time every emulated resource reports.
pub(crate) const CREATED: &str = "2025-03-01T08:00:00Z";

/// The mandatory `RegionId`, which must be one of the world's regions.
/// The request's region, which must exist. Open question: a few Vpc operations do not mark
/// `RegionId` required in the SDK metadata (DeleteRouteEntry, the legacy NQA calls); the
/// emulator still needs a region for them and answers `MissingRegionId` without one (decom
/// always sends it for Vpc operations).
pub(crate) fn region_checked<'a>(st: &State, ctx: &'a Ctx<'_>) -> Result<&'a str, Fail> {
    let region = ctx.get("RegionId").ok_or_else(|| missing("RegionId"))?;
    if !st.regions.contains(region) {
        return Err(fail(
            404,
            "InvalidRegionId.NotFound",
            "The RegionId provided does not exist in our records.",
        ));
    }
    Ok(region)
}

/// One row of the dispatch table: an action a kind serves.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The product (API version) it belongs to.
    pub product: Product,
    /// The action name.
    pub action: &'static str,
    /// Its handler.
    pub handler: Handler,
    /// True when it may change state (audited, ClientToken-idempotent).
    pub mutates: bool,
    /// The parameters it requires (the official SDKs' metadata, `tests/data/api-contract.json`):
    /// a request without one is refused before the handler runs, with `Missing<Name>`.
    pub required: &'static [&'static str],
}

impl Operation {
    /// A read-only action (Describe/List/Get).
    pub const fn read(
        product: Product,
        action: &'static str,
        required: &'static [&'static str],
        handler: Handler,
    ) -> Operation {
        Operation {
            product,
            action,
            handler,
            mutates: false,
            required,
        }
    }

    /// A state-changing action.
    pub const fn mutate(
        product: Product,
        action: &'static str,
        required: &'static [&'static str],
        handler: Handler,
    ) -> Operation {
        Operation {
            product,
            action,
            handler,
            mutates: true,
            required,
        }
    }
}

/// Action name → the rows serving it (one per product), from every registered kind.
static TABLE: LazyLock<HashMap<&'static str, Vec<&'static Operation>>> = LazyLock::new(|| {
    let mut table: HashMap<&'static str, Vec<&'static Operation>> = HashMap::new();
    for op in kinds::operations() {
        table.entry(op.action).or_default().push(op);
    }
    table
});

/// The operation serving `action` of `product`, if the emulator has one.
pub fn lookup(product: Product, action: &str) -> Option<&'static Operation> {
    TABLE
        .get(action)?
        .iter()
        .find(|op| op.product == product)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paging of a page-number list as it was before pages were rendered lazily: every
    /// match rendered, then the page cut out.
    fn eager_paged(items: Vec<Value>, (number, size): (usize, usize)) -> Value {
        let total = items.len();
        let page: Vec<Value> = items
            .into_iter()
            .skip((number - 1) * size)
            .take(size)
            .collect();
        json!({ "PageNumber": number, "PageSize": size, "TotalCount": total, "Set": { "Item": page } })
    }

    fn eager_token_paged(items: Vec<Value>, (start, max): (usize, usize)) -> Value {
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
        let next = if start + max < total {
            format!("nt-{}", start + max)
        } else {
            String::new()
        };
        json!({ "TotalCount": total, "MaxResults": max, "NextToken": next, "Items": page })
    }

    #[test]
    fn a_page_renders_only_its_items_and_answers_what_the_eager_listing_did() {
        // A filtered listing: the multiples of 3 below 100 (34 matches).
        let matches = || (0..100).filter(|n| n % 3 == 0);
        let render = |n: i32| json!({ "Id": format!("id-{n}") });
        for size in [1, 5, 10, 34, 50] {
            for number in 1..=9 {
                let mut rendered = 0;
                let lazy = paged(matches(), (number, size), "Set", "Item", |n| {
                    rendered += 1;
                    render(n)
                });
                assert_eq!(
                    lazy,
                    eager_paged(matches().map(render).collect(), (number, size)),
                    "page {number} of size {size}"
                );
                assert_eq!(lazy["TotalCount"], 34);
                assert!(rendered <= size, "{rendered} rendered for a page of {size}");
            }
        }
        for max in [1, 7, 20, 100] {
            for start in [0, 1, 13, 33, 34, 35, 200] {
                let mut rendered = 0;
                let lazy = token_paged(matches(), (start, max), "Items", |n| {
                    rendered += 1;
                    render(n)
                });
                assert_eq!(
                    lazy,
                    eager_token_paged(matches().map(render).collect(), (start, max)),
                    "from {start}, {max} at most"
                );
                assert!(rendered <= max);
            }
        }
    }
}
