use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// The format example from the module docs, with every field set.
const FULL: &str = r#"version: 1                       # required, only 1
name: decommission-shanghai-dc1  # required, non-empty
account: "1234567890123456"
region: cn-shanghai
window:
  not_before: 2026-12-01T02:00:00+08:00
  not_after:  2026-12-01T06:00:00+08:00
policy:
  cascade: true
  max_deletions: 40
  protect:
    ids: [vbr-keepme]
    tags: { env: prod }
    names: ["prod-*"]
targets:
  - physical_connection: pc-119mfjzm7
  - vpn_attachment: vco-p0w7gtr14m09r9lkr
    region: ap-southeast-2
  - virtual_border_router: { name: "legacy-*", physical_connection: pc-abc }
  - vpn_attachment: { tags: { decommission: "2026-q4" } }
"#;

/// A valid header; tests append `targets:` (and sometimes `policy:`) to it.
const HEAD: &str = "version: 1\nname: t\nregion: cn-shanghai\n";

fn errors(text: &str) -> Vec<PlanError> {
    match parse("t.yaml", text) {
        Ok(plan) => panic!("expected errors, got {plan:#?}"),
        Err(e) => {
            assert_eq!(e.file, "t.yaml");
            e.errors
        }
    }
}

/// Exactly one error, at `line:column`, whose summary contains `needle`.
#[track_caller]
fn one(text: &str, line: u64, column: u64, needle: &str) -> PlanError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = errs.into_iter().next().unwrap();
    assert_eq!((e.line, e.column), (line, column), "{e:#?}");
    assert!(
        e.summary().contains(needle),
        "{:?} lacks {needle:?}",
        e.summary()
    );
    let want = text.split('\n').nth(usize::try_from(line - 1).unwrap());
    assert_eq!(e.source_line.as_deref(), want);
    e
}

fn ok(text: &str) -> Plan {
    parse("t.yaml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn full_plan_round_trips() {
    let plan = ok(FULL);
    assert_eq!(plan.version, 1);
    assert_eq!(plan.name, "decommission-shanghai-dc1");
    assert_eq!(plan.account.as_deref(), Some("1234567890123456"));
    assert_eq!(plan.region.as_deref(), Some("cn-shanghai"));
    assert_eq!(plan.file, "t.yaml");
    let w = plan.window.unwrap();
    assert_eq!(w.not_before, ts("2026-11-30T18:00:00Z"));
    assert_eq!(w.not_after, ts("2026-11-30T22:00:00Z"));
    assert!(w.contains(ts("2026-11-30T20:00:00Z")));
    assert!(!w.contains(ts("2026-11-30T22:00:01Z")));
    assert!(plan.policy.cascade);
    assert_eq!(plan.policy.max_deletions, Some(40));
    assert_eq!(plan.policy.protect.ids, ["vbr-keepme"]);
    assert_eq!(
        plan.policy.protect.tags,
        BTreeMap::from([("env".to_string(), "prod".to_string())])
    );
    assert_eq!(plan.policy.protect.names, ["prod-*"]);
    assert_eq!(plan.fingerprint.len(), 64);
    assert!(plan.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));

    let t = &plan.targets;
    assert_eq!(t.len(), 4);
    assert_eq!(t[0].kind, Kind::PhysicalConnection);
    assert_eq!(t[0].selector, Selector::Id("pc-119mfjzm7".into()));
    assert_eq!(
        (t[0].region.as_str(), t[0].line, t[0].column),
        ("cn-shanghai", 16, 5)
    );
    assert_eq!(t[0].describe(), "physical_connection pc-119mfjzm7");
    assert_eq!(t[1].kind, Kind::VpnAttachment);
    assert_eq!((t[1].region.as_str(), t[1].line), ("ap-southeast-2", 17));
    assert_eq!(t[2].kind, Kind::VirtualBorderRouter);
    assert_eq!(
        t[2].selector,
        Selector::Match(Match {
            name: Some("legacy-*".into()),
            physical_connection: Some("pc-abc".into()),
            ..Match::default()
        })
    );
    assert_eq!(
        t[2].describe(),
        "virtual_border_router {name: legacy-*, physical_connection: pc-abc}"
    );
    assert_eq!(t[2].line, 19);
    assert_eq!(
        t[3].describe(),
        "vpn_attachment {tags: {decommission: 2026-q4}}"
    );
    assert_eq!(t[3].region, "cn-shanghai");
}

#[test]
fn minimal_plan_defaults() {
    let plan = ok(&format!("{HEAD}targets:\n  - bgp_peer: bgp-1\n"));
    assert_eq!(plan.account, None);
    assert_eq!(plan.window, None);
    assert_eq!(plan.policy, Policy::default());
    assert!(plan.policy.protect.is_empty());
    // Every targetable kind, by id and with each selector key it accepts.
    let text = "version: 1\nname: all\ntargets:\n\
        - { physical_connection: pc-1, region: cn-beijing }\n\
        - { virtual_border_router: vbr-1, region: cn-beijing }\n\
        - { router_interface: ri-1, region: cn-beijing }\n\
        - { bgp_group: bgpg-1, region: cn-beijing }\n\
        - { bgp_peer: bgp-1, region: cn-beijing }\n\
        - { transit_router_vbr_attachment: { transit_router: tr-1 }, region: cn-beijing }\n\
        - { transit_router_vpn_attachment: tr-attach-1, region: cn-beijing }\n\
        - { vpn_attachment: { transit_router: tr-2, name: b* }, region: cn-beijing }\n\
        - { vpn_connection: { vpn_gateway: vpn-1 }, region: cn-beijing }\n";
    let plan = ok(text);
    let kinds: Vec<Kind> = plan.targets.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, Kind::targetable());
    assert_eq!(plan.targets[0].column, 3);
}

#[test]
fn scalars_keep_their_text() {
    // Unquoted numbers keep their digits; `yes` is a string, not a boolean.
    let plan = ok(&format!(
        "{HEAD}account: 0012345678901234\npolicy:\n  protect:\n    tags: {{ on: yes, cost: 0042, n: 12 }}\n\
         targets:\n  - physical_connection: pc-1\n"
    ));
    assert_eq!(plan.account.as_deref(), Some("0012345678901234"));
    let tags = &plan.policy.protect.tags;
    assert_eq!(tags["on"], "yes");
    assert_eq!(tags["cost"], "0042");
    assert_eq!(tags["n"], "12");
    let plan = ok(&format!(
        "{HEAD}account: 1234567890123456\ntargets:\n  - physical_connection: pc-1\n"
    ));
    assert_eq!(plan.account.as_deref(), Some("1234567890123456"));
}

// ---- YAML syntax -------------------------------------------------------------------------------

#[test]
fn yaml_syntax_errors_are_located() {
    let e = one("version: 1\nname: [x\n", 2, 7, "invalid YAML");
    assert!(e.message.contains("bracket"), "{e:?}");
    one(
        "version: 1\nversion: 1\n",
        2,
        1,
        "duplicate key \"version\"",
    );
    one("version: 1\n---\nname: x\n", 2, 1, "single YAML document");
    // The tab itself, not the end of the scalar before it (issue 16).
    one("- a\n\t- b\n", 2, 1, "tab");
}

#[test]
fn empty_and_non_mapping_plans() {
    one("", 1, 1, "the plan is empty");
    one("# nothing\n", 2, 1, "the plan is empty");
    one(
        "- physical_connection: pc-1\n",
        1,
        1,
        "the plan must be a mapping, found a list",
    );
    let errs = errors("name: x\n");
    let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "the plan is missing the required key \"version\"",
            "the plan is missing the required key \"targets\"",
        ]
    );
    assert!(errs.iter().all(|e| (e.line, e.column) == (1, 1)));
}

// ---- unknown keys ---------------------------------------------------------------------------

#[test]
fn unknown_top_level_key() {
    let e = one(
        &format!("{HEAD}colour: red\ntargets:\n  - physical_connection: pc-1\n"),
        4,
        1,
        "unknown key \"colour\" in the plan",
    );
    assert_eq!(
        e.expected.as_deref(),
        Some("one of: version, name, account, region, window, policy, targets")
    );
    one(
        &format!("{HEAD}taregts:\n  - physical_connection: pc-1\n"),
        4,
        1,
        "did you mean \"targets\"?",
    );
    // A policy key at the top level says where it belongs.
    let errs = errors(&format!(
        "{HEAD}cascade: true\ntargets:\n  - physical_connection: pc-1\n"
    ));
    assert!(
        errs[0].message.contains("cascade belongs under policy:"),
        "{errs:?}"
    );
}

#[test]
fn unknown_keys_in_sections() {
    one(
        &format!(
            "{HEAD}window:\n  not_before: 2026-12-01T02:00:00Z\n  not_after: 2026-12-01T03:00:00Z\n  timezone: UTC\ntargets:\n  - physical_connection: pc-1\n"
        ),
        7,
        3,
        "unknown key \"timezone\" in window",
    );
    one(
        &format!(
            "{HEAD}policy:\n  cascade: true\n  dry_run: true\ntargets:\n  - physical_connection: pc-1\n"
        ),
        6,
        3,
        "unknown key \"dry_run\" in policy",
    );
    one(
        &format!(
            "{HEAD}policy:\n  protect:\n    tag: {{ env: prod }}\ntargets:\n  - physical_connection: pc-1\n"
        ),
        6,
        5,
        "unknown key \"tag\" in policy.protect; did you mean \"tags\"?",
    );
    one(
        &format!("{HEAD}targets:\n  - physical_connection: pc-1\n    regoin: cn-beijing\n"),
        6,
        5,
        "unknown key \"regoin\" in a target; did you mean \"region\"?",
    );
}

// ---- targets ------------------------------------------------------------------------------------

#[test]
fn unknown_kind_is_located_at_the_key() {
    let text =
        format!("{HEAD}targets:\n  - physical_connection: pc-0\n\n  - physical_conection: pc-1\n");
    let e = one(&text, 7, 5, "unknown kind \"physical_conection\"");
    assert!(e.message.contains("did you mean \"physical_connection\"?"));
    assert!(
        e.expected
            .as_deref()
            .unwrap()
            .starts_with("one of: physical_connection, virtual_border_router, ")
    );
    one(
        &format!("{HEAD}targets:\n  - route_table_association: tr-attach-1/vtb-1\n"),
        5,
        5,
        "route_table_association cannot be a target",
    );
    one(
        &format!("{HEAD}targets:\n  - kind: physical_connection\n    id: pc-9\n"),
        5,
        5,
        "here \"- physical_connection: pc-9\"",
    );
    one(
        &format!("{HEAD}targets:\n  - region: cn-beijing\n"),
        5,
        5,
        "the target names no kind",
    );
    one(
        &format!(
            "{HEAD}targets:\n  - {{ physical_connection: pc-1, virtual_border_router: vbr-1 }}\n"
        ),
        5,
        34,
        "exactly one kind",
    );
    one(
        &format!("{HEAD}targets:\n  - pc-1\n"),
        5,
        5,
        "a target must be a mapping, found a string",
    );
}

#[test]
fn wrong_id_prefix() {
    let e = one(
        &format!("{HEAD}targets:\n  - virtual_border_router: pc-1\n"),
        5,
        28,
        "id \"pc-1\" is not a virtual_border_router id; it looks like a physical_connection id",
    );
    assert_eq!(e.expected.as_deref(), Some("an id starting with \"vbr-\""));
    // bgp- is a prefix of neither bgpg- ids nor the other way round.
    one(
        &format!("{HEAD}targets:\n  - bgp_group: bgp-1\n"),
        5,
        16,
        "starting with \"bgpg-\"",
    );
    one(
        &format!("{HEAD}targets:\n  - physical_connection: pc-\n"),
        5,
        26,
        "nothing after its prefix",
    );
    one(
        &format!("{HEAD}targets:\n  - physical_connection: 42\n"),
        5,
        26,
        "id \"42\"",
    );
    // Link ids in selectors are checked the same way; a transit router is not an attachment.
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{ transit_router: tr-attach-1 }}\n"),
        5,
        39,
        "not a transit_router id",
    );
    one(
        &format!("{HEAD}targets:\n  - virtual_border_router: {{ physical_connection: vbr-1 }}\n"),
        5,
        51,
        "expected an id starting with \"pc-\"",
    );
}

#[test]
fn invalid_id_characters() {
    let e = one(
        &format!("{HEAD}targets:\n  - physical_connection: \"pc-1 2\"\n"),
        5,
        26,
        "id \"pc-1 2\" contains ' '",
    );
    assert!(e.expected.unwrap().contains("letters, digits"));
    one(
        &format!("{HEAD}targets:\n  - physical_connection: pc-ü\n"),
        5,
        26,
        "contains 'ü'",
    );
    one(
        &format!(
            "{HEAD}policy:\n  protect:\n    ids: [\"vbr/1\"]\ntargets:\n  - physical_connection: pc-1\n"
        ),
        6,
        11,
        "contains '/'",
    );
    let long = format!("pc-{}", "a".repeat(62));
    one(
        &format!("{HEAD}targets:\n  - physical_connection: {long}\n"),
        5,
        26,
        "longer than 64",
    );
}

#[test]
fn duplicate_targets_point_at_the_second() {
    let text = format!(
        "{HEAD}targets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n  - physical_connection: pc-1\n"
    );
    let e = one(
        &text,
        7,
        5,
        "duplicate target: physical_connection pc-1 in cn-shanghai",
    );
    assert!(e.message.contains("already listed at line 5"), "{e:?}");
    // Same id in another region, or another kind with the same id: not duplicates.
    ok(&format!(
        "{HEAD}targets:\n  - physical_connection: pc-1\n  - physical_connection: pc-1\n    region: cn-beijing\n  - vpn_attachment: vco-1\n  - vpn_connection: vco-1\n"
    ));
    // The same selector twice is a duplicate too.
    one(
        &format!(
            "{HEAD}targets:\n  - vpn_connection: {{ name: a* }}\n  - vpn_connection: {{name: \"a*\"}}\n"
        ),
        6,
        5,
        "already listed at line 5",
    );
}

#[test]
fn unknown_regions_list_the_closest() {
    let e = one(
        "version: 1\nname: t\nregion: cn-shangai\ntargets:\n  - physical_connection: pc-1\n",
        3,
        9,
        "unknown region \"cn-shangai\"",
    );
    assert!(
        e.expected
            .unwrap()
            .starts_with("a known region; closest: cn-shanghai, ")
    );
    // A bad default is reported once, not again for every target that uses it; the targets
    // are still checked.
    let errs = errors(
        "version: 1\nname: t\nregion: mars\npolicy: { protect: { ids: [pc-2] } }\ntargets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n  - physical_connection: pc-1\n",
    );
    let got: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (3, "unknown region \"mars\""),
            (
                7,
                "target physical_connection pc-2 is also protected by policy.protect.ids (line 4)"
            ),
            (
                8,
                "duplicate target: physical_connection pc-1 in mars is already listed at line 6"
            ),
        ]
    );
    one(
        "version: 1\nname: t\nregion: mars\ntargets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n",
        3,
        9,
        "unknown region",
    );
    one(
        &format!("{HEAD}targets:\n  - physical_connection: pc-1\n    region: eu-west-9\n"),
        6,
        13,
        "unknown region \"eu-west-9\"",
    );
}

#[test]
fn missing_region() {
    let e = one(
        "version: 1\nname: t\ntargets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n    region: cn-beijing\n",
        4,
        5,
        "no region for the target physical_connection",
    );
    assert!(e.expected.unwrap().contains("top-level \"region:\""));
}

#[test]
fn empty_or_missing_targets() {
    one(
        &format!("{HEAD}targets: []\n"),
        4,
        10,
        "the plan has no targets",
    );
    // An empty value is located just after its key.
    one(
        &format!("{HEAD}targets:\n"),
        4,
        8,
        "targets must be a list, found nothing",
    );
    one(HEAD, 1, 1, "missing the required key \"targets\"");
}

#[test]
fn selectors() {
    one(
        &format!("{HEAD}targets:\n  - vpn_connection: {{ physical_connection: pc-1 }}\n"),
        5,
        23,
        "selector key \"physical_connection\" does not apply to vpn_connection",
    );
    let e = one(
        &format!("{HEAD}targets:\n  - virtual_border_router: {{ transit_router: tr-1 }}\n"),
        5,
        30,
        "does not apply to virtual_border_router",
    );
    assert_eq!(
        e.expected.as_deref(),
        Some("one of: name, tags, physical_connection")
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{ vpn_gateway: vpn-1 }}\n"),
        5,
        23,
        "does not apply to vpn_attachment",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{ nmae: x }}\n"),
        5,
        23,
        "unknown selector key \"nmae\"; did you mean \"name\"?",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{ id: vco-1 }}\n"),
        5,
        23,
        "write the id directly",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{}}\n"),
        5,
        21,
        "empty selector: it would select every vpn_attachment",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{ tags: {{}} }}\n"),
        5,
        21,
        "would select every vpn_attachment",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment:\n"),
        5,
        19,
        "has no id or selector",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: [vco-1, vco-2]\n"),
        5,
        21,
        "not a list",
    );
    one(
        &format!("{HEAD}targets:\n  - vpn_attachment: {{ tags: {{ env: }} }}\n"),
        5,
        34,
        "tag \"env\" in selector tags has nothing (null) as its value",
    );
}

#[test]
fn window_checks() {
    let text = |nb: &str, na: &str| {
        format!(
            "{HEAD}window:\n  not_before: {nb}\n  not_after: {na}\ntargets:\n  - physical_connection: pc-1\n"
        )
    };
    let e = one(
        &text("2026-12-01T06:00:00+08:00", "2026-12-01T02:00:00+08:00"),
        6,
        14,
        "window.not_after 2026-12-01T02:00:00+08:00 is not after window.not_before 2026-12-01T06:00:00+08:00 (line 5)",
    );
    assert!(e.expected.is_some());
    // Equal instants written with different offsets are not a window either.
    one(
        &text("2026-12-01T02:00:00+08:00", "2026-11-30T18:00:00Z"),
        6,
        14,
        "is not after",
    );
    one(
        &text("2026-12-01", "2026-12-02T00:00:00Z"),
        5,
        15,
        "window.not_before \"2026-12-01\" is not a timestamp",
    );
    one(
        &text("2026-12-01T02:00:00+08:00", "tomorrow"),
        6,
        14,
        "is not a timestamp",
    );
    one(
        &format!(
            "{HEAD}window:\n  not_before: 2026-12-01T02:00:00Z\ntargets:\n  - physical_connection: pc-1\n"
        ),
        5,
        3,
        "window is missing the required key \"not_after\"",
    );
    ok(&text("2026-12-01T02:00:00Z", "2026-12-01T02:00:01Z"));
}

#[test]
fn protected_target_is_refused() {
    let e = one(
        &format!(
            "{HEAD}policy:\n  protect:\n    ids:\n      - vbr-keep\ntargets:\n  - physical_connection: pc-1\n  - virtual_border_router: vbr-keep\n"
        ),
        10,
        28,
        "target virtual_border_router vbr-keep is also protected by policy.protect.ids (line 7)",
    );
    assert!(e.expected.unwrap().contains("remove one of the two"));
}

#[test]
fn version_name_account_and_limits() {
    let targets = "targets:\n  - physical_connection: pc-1\n";
    let e = one(
        &format!("version: 2\nname: t\nregion: cn-shanghai\n{targets}"),
        1,
        10,
        "unsupported plan version 2",
    );
    assert_eq!(e.expected.as_deref(), Some("1"));
    one(
        &format!("version: \"1\"\nname: t\nregion: cn-shanghai\n{targets}"),
        1,
        10,
        "version must be a whole number",
    );
    one(
        &format!("name: t\nregion: cn-shanghai\n{targets}"),
        1,
        1,
        "missing the required key \"version\"",
    );
    one(
        &format!("version: 1\nname: \"\"\nregion: cn-shanghai\n{targets}"),
        2,
        7,
        "name is empty",
    );
    one(
        &format!("version: 1\nname: a b\nregion: cn-shanghai\n{targets}"),
        2,
        7,
        "contains ' '",
    );
    one(
        &format!("version: 1\nregion: cn-shanghai\n{targets}"),
        1,
        1,
        "missing the required key \"name\"",
    );
    one(
        &format!("{HEAD}account: \"12-34\"\n{targets}"),
        4,
        10,
        "account \"12-34\" is not an account id",
    );
    one(
        &format!("{HEAD}account: [1]\n{targets}"),
        4,
        10,
        "account must be a single value, found a list",
    );
    one(
        &format!("{HEAD}policy:\n  max_deletions: 0\n{targets}"),
        5,
        18,
        "policy.max_deletions is 0; it must be at least 1",
    );
    one(
        &format!("{HEAD}policy:\n  max_deletions: -3\n{targets}"),
        5,
        18,
        "at least 1",
    );
    one(
        &format!("{HEAD}policy:\n  max_deletions: 4294967296\n{targets}"),
        5,
        18,
        "too large",
    );
    one(
        &format!("{HEAD}policy:\n  max_deletions: ten\n{targets}"),
        5,
        18,
        "must be a whole number",
    );
    one(
        &format!("{HEAD}policy:\n  cascade: yes\n{targets}"),
        5,
        12,
        "true or false",
    );
    one(
        &format!("{HEAD}policy:\n  protect:\n    names: [\"\"]\n{targets}"),
        6,
        13,
        "is empty",
    );
}

#[test]
fn many_errors_are_reported_together_in_order() {
    let text = "version: 3\n\
                name: t\n\
                account: abc\n\
                region: cn-shanghai\n\
                policy:\n  max_deletions: 0\n\
                targets:\n\
                \x20 - physical_conection: pc-1\n\
                \x20 - virtual_border_router: pc-2\n\
                \x20 - bgp_peer: bgp-1\n\
                \x20   region: nowhere-1\n\
                \x20 - vpn_connection: {}\n";
    let errs = errors(text);
    let got: Vec<(u64, u64)> = errs.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        got,
        [
            (1, 10),
            (3, 10),
            (6, 18),
            (8, 5),
            (9, 28),
            (11, 13),
            (12, 21)
        ],
        "{errs:#?}"
    );
    let rendered = parse("plans/x.yaml", text).unwrap_err().to_string();
    assert_eq!(rendered.matches("error: ").count(), 7, "{rendered}");
}

#[test]
fn rendering_is_rustc_like() {
    let text =
        format!("{HEAD}targets:\n  - physical_connection: pc-1\n  - physical_conection: pc-1\n");
    let err = parse("plans/x.yaml", &text).unwrap_err();
    let expected = "error: unknown kind \"physical_conection\"; did you mean \"physical_connection\"? \
(expected one of: physical_connection, virtual_border_router, router_interface, bgp_group, bgp_peer, \
transit_router_vbr_attachment, transit_router_vpn_attachment, vpn_attachment, vpn_connection)
  --> plans/x.yaml:6:5
   |
 6 |   - physical_conection: pc-1
   |     ^";
    assert_eq!(err.to_string(), expected);

    // Wider line numbers widen the gutter; several errors are separated by a blank line.
    let mut text = String::from(HEAD);
    text.push_str(&"# padding\n".repeat(8));
    text.push_str("colour: red\ntargets:\n  - bgp_group: bgp-1\n");
    let rendered = parse("p.yaml", &text).unwrap_err().to_string();
    assert!(
        rendered.contains("\n   --> p.yaml:12:1\n    |\n 12 | colour: red\n    | ^\n\nerror: "),
        "{rendered}"
    );
    assert!(
        rendered.ends_with(" 14 |   - bgp_group: bgp-1\n    |                ^"),
        "{rendered}"
    );
}

#[test]
fn unreadable_file() {
    let err = load(Path::new("/nonexistent/plan.yaml")).unwrap_err();
    assert_eq!(err.errors[0].line, 0);
    assert!(
        err.to_string()
            .starts_with("error: cannot read the plan file: "),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("\n  --> /nonexistent/plan.yaml"),
        "{err}"
    );
}

// ---- fingerprint ------------------------------------------------------------------------------

#[test]
fn fingerprint_ignores_form_and_tracks_meaning() {
    let base = ok(FULL);
    let same_meaning = r#"
# Same plan, written differently: comments, flow style, other key and list orders, UTC times.
targets:
- {vpn_attachment: {tags: {decommission: 2026-q4}}}
- virtual_border_router:
    physical_connection: pc-abc
    name: legacy-*
- region: ap-southeast-2
  vpn_attachment: "vco-p0w7gtr14m09r9lkr"
- physical_connection: 'pc-119mfjzm7'
policy: {protect: {names: [prod-*], tags: {env: prod}, ids: [vbr-keepme]}, max_deletions: 40, cascade: true}
window: { not_after: "2026-11-30T22:00:00Z", not_before: 2026-11-30T18:00:00Z }
region: cn-shanghai
account: 1234567890123456
name:    decommission-shanghai-dc1
version: 1
"#;
    let other = parse("elsewhere.yaml", same_meaning).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(other.fingerprint, base.fingerprint);
    assert_eq!(
        fingerprint::canonical(&other),
        fingerprint::canonical(&base)
    );

    let changed = |from: &str, to: &str| {
        assert!(FULL.contains(from), "{from}");
        let plan = ok(&FULL.replacen(from, to, 1));
        assert_ne!(plan.fingerprint, base.fingerprint, "{from} -> {to}");
    };
    changed("pc-119mfjzm7", "pc-119mfjzm8");
    changed("region: ap-southeast-2", "region: ap-southeast-1");
    changed("legacy-*", "legacy-?");
    changed("\"2026-q4\"", "\"2026-q3\"");
    changed("cascade: true", "cascade: false");
    changed("max_deletions: 40", "max_deletions: 41");
    changed("06:00:00+08:00", "06:00:01+08:00");
    changed("vbr-keepme", "vbr-keepyou");
    changed(
        "name: decommission-shanghai-dc1",
        "name: decommission-shanghai-dc2",
    );
    changed(
        "account: \"1234567890123456\"",
        "account: \"1234567890123457\"",
    );
    changed(
        "  - physical_connection: pc-119mfjzm7\n",
        "  - physical_connection: pc-119mfjzm7\n  - bgp_peer: bgp-1\n",
    );
}

// ---- policy helpers ---------------------------------------------------------------------------

#[test]
fn protect_reasons() {
    let protect = Protect {
        ids: vec!["vbr-keep".into()],
        tags: BTreeMap::from([("env".into(), "prod".into()), ("keep".into(), "yes".into())]),
        names: vec!["prod-*".into()],
    };
    let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        protect.reason("vbr-keep", "x", &tags(&[])).as_deref(),
        Some("protected by policy.protect.ids vbr-keep")
    );
    assert_eq!(
        protect
            .reason("pc-1", "x", &tags(&[("site", "dc2"), ("env", "prod")]))
            .as_deref(),
        Some("protected by policy.protect.tags env=prod")
    );
    assert_eq!(
        protect
            .reason("pc-1", "x", &tags(&[("keep", "yes")]))
            .as_deref(),
        Some("protected by policy.protect.tags keep=yes")
    );
    assert_eq!(
        protect.reason("pc-1", "prod-core", &tags(&[])).as_deref(),
        Some("protected by policy.protect.names prod-*")
    );
    assert_eq!(
        protect.reason("pc-1", "dev-core", &tags(&[("env", "dev")])),
        None
    );
    assert_eq!(protect.reason("pc-1", "", &tags(&[("env", "")])), None);
    assert_eq!(
        Protect::default().reason("pc-1", "prod-core", &tags(&[("env", "prod")])),
        None
    );
}

#[test]
fn match_checks_name_and_all_tags() {
    let m = Match {
        name: Some("legacy-*".into()),
        tags: BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
        ..Match::default()
    };
    let tags = BTreeMap::from([
        ("a".to_string(), "1".to_string()),
        ("b".to_string(), "2".to_string()),
        ("c".to_string(), "3".to_string()),
    ]);
    assert!(m.matches("legacy-dc1", &tags));
    assert!(!m.matches("dc1", &tags));
    assert!(!m.matches(
        "legacy-dc1",
        &BTreeMap::from([("a".to_string(), "1".to_string())])
    ));
    let by_link = Match {
        physical_connection: Some("pc-1".into()),
        ..Match::default()
    };
    assert!(by_link.matches("anything", &BTreeMap::new()));
    assert!(!by_link.is_empty());
    assert!(Match::default().is_empty());
}

// ---- example plans --------------------------------------------------------------------------

#[test]
fn every_example_plan_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plans");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# "),
            "{} must start with a comment",
            path.display()
        );
        let plan = load(&path).unwrap_or_else(|e| panic!("{e}"));
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        assert!(!plan.targets.is_empty());
    }
    names.sort();
    assert_eq!(
        names,
        [
            "blocked.yaml",
            "dc1-circuit.yaml",
            "demo.yaml",
            "protected-blocker.yaml",
            "tr-ipsec-by-tag.yaml"
        ]
    );

    let demo = load(&dir.join("demo.yaml")).unwrap();
    assert_eq!(demo.account.as_deref(), Some("1234567890123456"));
    assert_eq!(demo.policy.max_deletions, Some(40));
    assert!(demo.policy.cascade);
    let described: Vec<String> = demo
        .targets
        .iter()
        .map(|t| format!("{} @ {}", t.describe(), t.region))
        .collect();
    assert_eq!(
        described,
        [
            "physical_connection pc-uf6dc1primary0001 @ cn-shanghai",
            "physical_connection pc-uf6dc1backup00002 @ cn-shanghai",
            "physical_connection pc-uf6dc1old0000003 @ cn-shanghai",
            "vpn_attachment {tags: {decommission: 2026-q4}} @ ap-southeast-2",
            "vpn_connection {tags: {decommission: 2026-q4}} @ cn-hangzhou",
        ]
    );
    let blocked = load(&dir.join("blocked.yaml")).unwrap();
    assert!(!blocked.policy.cascade);
    let protected = load(&dir.join("protected-blocker.yaml")).unwrap();
    assert_eq!(protected.policy.protect.ids, ["vbr-uf6prod00000004"]);
    assert_eq!(
        protected.targets[0].describe(),
        "physical_connection pc-uf6prodcore00004"
    );
}

// ---- robustness ------------------------------------------------------------------------------

/// Every error is located when there is any text at all, and rendering never fails.
fn assert_well_formed(text: &str) {
    if let Err(e) = parse("fuzz.yaml", text) {
        assert!(!e.errors.is_empty());
        let _ = e.to_string();
        if !text.is_empty() {
            for err in &e.errors {
                assert!(err.line >= 1 && err.column >= 1, "{err:?} for {text:?}");
                assert!(err.source_line.is_some(), "{err:?} for {text:?}");
            }
        }
    }
}

/// A mutation of a byte string: delete, insert or replace one byte.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        // Bytes that matter to YAML are drawn more often than the rest.
        prop::sample::select(b" \n\t:-#{}[],'\"&*!|>?%@`\\0123456789".to_vec()),
        any::<u8>(),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for e in edits {
        let len = bytes.len();
        match *e {
            Edit::Delete(i) if len > 0 => {
                bytes.remove(i % len);
            }
            Edit::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Edit::Replace(i, b) if len > 0 => bytes[i % len] = b,
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        assert_well_formed(&text);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_: \\-\\n\\[\\]{},'\"#0-9*&]{0,200}") {
        assert_well_formed(&text);
    }

    #[test]
    fn mutated_plans_never_panic(edits in prop::collection::vec(edit(), 1..8)) {
        assert_well_formed(&apply(FULL, &edits));
    }
}

#[test]
fn source_lines_follow_yaml_line_breaks() {
    for nl in ["\n", "\r\n", "\r"] {
        let text = format!("version: 1{nl}name: t{nl}colour: red{nl}");
        let errs = errors(&text);
        let e = errs.iter().find(|e| e.message.contains("colour")).unwrap();
        assert_eq!((e.line, e.column), (3, 1), "{nl:?}");
        assert_eq!(e.source_line.as_deref(), Some("colour: red"), "{nl:?}");
    }
    let errs = errors("\u{feff}version: 2\n");
    let e = errs
        .iter()
        .find(|e| e.message.contains("version 2"))
        .unwrap();
    assert_eq!((e.line, e.column), (1, 10));
    assert_eq!(e.source_line.as_deref(), Some("version: 2"));
}

#[test]
fn on_blocked_is_refuse_or_skip_and_only_skip_changes_the_fingerprint() {
    let t = "targets:\n  - physical_connection: pc-1\n";
    let default = ok(&format!("{HEAD}{t}"));
    assert_eq!(default.policy.on_blocked, OnBlocked::Refuse);
    let refuse = ok(&format!("{HEAD}policy:\n  on_blocked: refuse\n{t}"));
    assert_eq!(
        refuse.fingerprint, default.fingerprint,
        "the default is unchanged"
    );
    let skip = ok(&format!("{HEAD}policy:\n  on_blocked: skip\n{t}"));
    assert_eq!(skip.policy.on_blocked, OnBlocked::Skip);
    assert_ne!(skip.fingerprint, default.fingerprint);
    one(
        &format!("{HEAD}policy:\n  on_blocked: ignore\n{t}"),
        5,
        15,
        "policy.on_blocked must be refuse or skip, found \"ignore\"",
    );
}

#[test]
fn issue16_what_plan_would_reject_validate_rejects_in_place() {
    // A TR-attachment selector without its transit router: discovery could not list it.
    one(
        &format!("{HEAD}targets:\n  - transit_router_vpn_attachment: {{ name: \"a-*\" }}\n"),
        5,
        36,
        "a transit_router_vpn_attachment selector needs transit_router",
    );
    ok(&format!(
        "{HEAD}targets:\n  - transit_router_vbr_attachment: {{ transit_router: tr-1, name: \"a-*\" }}\n"
    ));
    // An account id is 16 digits.
    one(
        &format!("{HEAD}account: \"12345\"\ntargets:\n  - physical_connection: pc-1\n"),
        4,
        10,
        "account \"12345\" is not an account id",
    );
    // A tab indenting a line is reported on that line, not at the end of the one above.
    one(
        &format!("{HEAD}targets:\n  - physical_connection: pc-1\n\tregion: cn-shanghai\n"),
        6,
        1,
        "found a tab",
    );
}

#[test]
fn moving_the_window_keeps_the_journal_fingerprint() {
    // A run stopped by its window resumes, with the window moved, on the same journal.
    let a = ok(
        "version: 1\nname: w\nwindow: { not_before: \"2026-01-01T00:00:00Z\", not_after: \"2026-01-01T01:00:00Z\" }\ntargets:\n  - { physical_connection: pc-1, region: cn-beijing }\n",
    );
    let b = ok(
        "version: 1\nname: w\nwindow: { not_before: \"2026-01-02T00:00:00Z\", not_after: \"2026-01-02T01:00:00Z\" }\ntargets:\n  - { physical_connection: pc-1, region: cn-beijing }\n",
    );
    assert_ne!(a.fingerprint, b.fingerprint);
    assert_eq!(a.journal_fingerprint(), b.journal_fingerprint());
    let c = ok(
        "version: 1\nname: w\ntargets:\n  - { physical_connection: pc-2, region: cn-beijing }\n",
    );
    assert_ne!(a.journal_fingerprint(), c.journal_fingerprint());
}
