//! The emulator's STS: who is calling (world keys, RAM users, assumed-role sessions),
//! `GetCallerIdentity`, `AssumeRole`, `AssumeRoleWithOIDC`, security tokens that expire, and
//! two plain-HTTP fronts that hand out role credentials the way the credential sources fetch
//! them:
//!
//! - the ECS metadata front (`emulator serve --ecs-role NAME`, [`Emulator::set_ecs_role`]):
//!   `PUT /latest/api/token`, `GET /latest/meta-data/ram/security-credentials/[ROLE]`;
//! - the credentials-URI front: `GET /_emulator/credentials/ROLE`.
//!
//! Both serve whoever can reach them: the emulator listens on loopback.
//!
//! Roles, their trust and the OIDC providers come from the world file's `sts:` section:
//!
//! ```yaml
//! sts:
//!   token_lifetime: 20s          # every issued token lives this long (scaled rehearsals)
//!   roles:
//!     - name: decom-deployer
//!       account_id: "1234567890123456"    # the world's account when absent
//!       max_session_duration: 1h
//!       trusted_accounts: ["1234567890123456"]   # RAM principals (the world's account when absent)
//!       external_id: abc          # required ExternalId, when set
//!       trusted_oidc_providers: [github]
//!       oidc_subjects: ["repo:acme/net:*"]        # `sub` patterns (`*` wildcard), any when empty
//!   oidc_providers:
//!     - name: github
//!       issuer: https://token.actions.githubusercontent.com
//!       audiences: [sts.aliyuncs.com]
//! ```
//!
//! OIDC tokens are checked for shape (three base64url parts, JSON), `iss`, `aud`, `exp` and
//! the role's trust, never for their signature (the emulator has no issuer keys). Error codes
//! are the documented ones (help.aliyun.com, "STS 2015-04-01 error codes";
//! alibabacloud.com doc 42775 for AssumeRole).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Emulator;
use super::ops::{Fail, fail};
use super::world::{Dur, WorldProblem};
use crate::api::sign::Verified;
use crate::api::{WireRequest, WireResponse};

/// The world file's `sts:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StsWorld {
    /// When set, every token lives this long whatever `DurationSeconds` asked: scaled-time
    /// rehearsals of long applies.
    pub token_lifetime: Option<Dur>,
    /// Roles that can be assumed.
    pub roles: Vec<Role>,
    /// OIDC identity providers.
    pub oidc_providers: Vec<OidcProvider>,
}

fn one_hour() -> Dur {
    Dur(Duration::from_secs(3600))
}

/// A RAM role and its trust policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role name (ARNs compare it case-insensitively, like RAM).
    pub name: String,
    /// Owning account (the world's when absent).
    #[serde(default)]
    pub account_id: Option<String>,
    /// `RoleId` (derived from the name when absent).
    #[serde(default)]
    pub role_id: Option<String>,
    /// Longest `DurationSeconds` granted.
    #[serde(default = "one_hour")]
    pub max_session_duration: Dur,
    /// Accounts whose RAM users and roles may assume it (the world's when empty).
    #[serde(default)]
    pub trusted_accounts: Vec<String>,
    /// The `ExternalId` the trust policy requires.
    #[serde(default)]
    pub external_id: Option<String>,
    /// OIDC providers (by name) the role trusts.
    #[serde(default)]
    pub trusted_oidc_providers: Vec<String>,
    /// Allowed `sub` values (`*` matches any run of characters); any when empty.
    #[serde(default)]
    pub oidc_subjects: Vec<String>,
}

/// An OIDC identity provider registered in RAM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// Name (the last part of its ARN).
    pub name: String,
    /// Owning account (the world's when absent).
    #[serde(default)]
    pub account_id: Option<String>,
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// Accepted `aud` values (client ids).
    pub audiences: Vec<String>,
}

impl StsWorld {
    /// Problems of this section (unknown providers, bad accounts).
    pub fn check(&self) -> Vec<WorldProblem> {
        let mut out = Vec::new();
        let mut push = |message: String| {
            out.push(WorldProblem {
                line: 0,
                column: 0,
                message,
            })
        };
        for r in &self.roles {
            for p in &r.trusted_oidc_providers {
                if !self.oidc_providers.iter().any(|o| &o.name == p) {
                    push(format!(
                        "sts.roles {}: trusted_oidc_providers names {p:?}, which sts.oidc_providers does not define",
                        r.name
                    ));
                }
            }
            for a in r.account_id.iter().chain(&r.trusted_accounts) {
                if a.is_empty() || !a.chars().all(|c| c.is_ascii_digit()) {
                    push(format!(
                        "sts.roles {}: account {a:?} must be digits",
                        r.name
                    ));
                }
            }
        }
        out
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The account's own (root) key.
    Root {
        /// The account.
        account: String,
    },
    /// A RAM user's key.
    User {
        /// The account.
        account: String,
        /// The user name.
        name: String,
    },
    /// A session of an assumed role.
    Role {
        /// The role's account.
        account: String,
        /// The role name.
        role: String,
        /// Its RoleId.
        role_id: String,
        /// The session name.
        session: String,
    },
}

impl Caller {
    fn account(&self) -> &str {
        match self {
            Caller::Root { account }
            | Caller::User { account, .. }
            | Caller::Role { account, .. } => account,
        }
    }
}

/// Issued temporary credentials.
struct Session {
    secret: String,
    token: String,
    expires_at: Instant,
    caller: Caller,
}

/// The emulator's STS bookkeeping.
#[derive(Default)]
pub struct StsState {
    inner: Mutex<Books>,
}

#[derive(Default)]
struct Books {
    sessions: HashMap<String, Session>,
    ecs_role: Option<String>,
    imds_tokens: Vec<String>,
    issued: u64,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Emulator {
    /// Serve the ECS metadata front for this role (a name from the world's `sts.roles`).
    pub fn set_ecs_role(&self, role: impl Into<String>) {
        self.books_sts().ecs_role = Some(role.into());
    }

    /// How many sets of temporary credentials were issued so far (every front).
    pub fn issued_sessions(&self) -> u64 {
        self.books_sts().issued
    }

    fn books_sts(&self) -> std::sync::MutexGuard<'_, Books> {
        self.inner
            .sts
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn sts_world(&self) -> &StsWorld {
        &self.inner.world.sts
    }

    fn role(&self, account: &str, name: &str) -> Option<&Role> {
        let world = &self.inner.world.account_id;
        self.sts_world().roles.iter().find(|r| {
            r.name.eq_ignore_ascii_case(name) && r.account_id.as_deref().unwrap_or(world) == account
        })
    }

    fn role_id(&self, role: &Role) -> String {
        role.role_id.clone().unwrap_or_else(|| {
            let n = role
                .name
                .bytes()
                .fold(3u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            format!("3{:017}", n % 100_000_000_000_000_000)
        })
    }

    /// Issue a session for `role` (in the world's account unless the role says otherwise).
    fn issue(&self, role: &Role, session: &str, asked: Duration, now: Instant) -> Value {
        let lifetime = self.sts_world().token_lifetime.map_or(asked, |d| d.0);
        let account = role
            .account_id
            .clone()
            .unwrap_or_else(|| self.inner.world.account_id.clone());
        let role_id = self.role_id(role);
        let id = format!("STS.{}", &random()[..20]);
        let secret = random();
        let token = format!("CAIS{}{}", random(), random());
        let expiration = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
            .unwrap_or(jiff::Timestamp::MAX)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let arn = format!("acs:ram::{account}:assumed-role/{}/{session}", role.name);
        let mut books = self.books_sts();
        books.issued += 1;
        books.sessions.insert(
            id.clone(),
            Session {
                secret: secret.clone(),
                token: token.clone(),
                expires_at: now + lifetime,
                caller: Caller::Role {
                    account,
                    role: role.name.clone(),
                    role_id: role_id.clone(),
                    session: session.to_string(),
                },
            },
        );
        json!({
            "Credentials": { "AccessKeyId": id, "AccessKeySecret": secret, "SecurityToken": token, "Expiration": expiration },
            "AssumedRoleUser": { "Arn": arn, "AssumedRoleId": format!("{role_id}:{session}") },
        })
    }
}

/// The secret of an issued session's AccessKeyId (expired ones included, so that their
/// requests verify and are then refused as expired).
pub fn secret_of(emulator: &Emulator, id: &str) -> Option<String> {
    emulator
        .books_sts()
        .sessions
        .get(id)
        .map(|s| s.secret.clone())
}

/// Who signed a verified request; refuses a wrong, missing or expired security token.
pub fn caller(emulator: &Emulator, verified: &Verified, now: Instant) -> Result<Caller, Fail> {
    let mismatch = || {
        fail(
            400,
            "InvalidSecurityToken.Mismatch",
            "Specified SecurityToken mismatch with the AccessKey.",
        )
    };
    let world = &emulator.inner.world;
    if let Some(key) = world
        .access_keys
        .iter()
        .find(|k| k.id == verified.access_key_id)
    {
        if let Some(expected) = &key.security_token
            && verified.security_token.as_deref() != Some(expected.as_str())
        {
            return Err(mismatch());
        }
        let account = world.account_id.clone();
        return Ok(match &key.user {
            Some(name) => Caller::User {
                account,
                name: name.clone(),
            },
            None => Caller::Root { account },
        });
    }
    let books = emulator.books_sts();
    let s = books.sessions.get(&verified.access_key_id).ok_or_else(|| {
        fail(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    })?;
    match &verified.security_token {
        None => {
            return Err(fail(
                400,
                "MissingSecurityToken",
                "SecurityToken is mandatory for this action.",
            ));
        }
        Some(t) if *t != s.token => return Err(mismatch()),
        Some(_) => {}
    }
    if now >= s.expires_at {
        return Err(fail(
            400,
            crate::api::error::EXPIRED_TOKEN,
            "Specified SecurityToken is expired.",
        ));
    }
    Ok(s.caller.clone())
}

/// Whether the emulator's STS serves this action.
pub fn knows(action: &str) -> bool {
    matches!(
        action,
        "GetCallerIdentity" | "AssumeRole" | "AssumeRoleWithOIDC"
    )
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn required<'a>(params: &'a [(String, String)], key: &str) -> Result<&'a str, Fail> {
    param(params, key).ok_or_else(|| {
        fail(
            400,
            &format!("Missing{key}"),
            format!("{key} is mandatory for this action."),
        )
    })
}

/// Serve a signed STS action for `caller`.
pub fn serve(
    emulator: &Emulator,
    caller: &Caller,
    action: &str,
    params: &[(String, String)],
    now: Instant,
) -> Result<Value, Fail> {
    match action {
        "GetCallerIdentity" => Ok(identity(caller)),
        "AssumeRole" => assume_role(emulator, caller, params, now),
        "AssumeRoleWithOIDC" => assume_role_with_oidc(emulator, params, now),
        _ => Err(fail(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )),
    }
}

/// `GetCallerIdentity` for each kind of caller.
fn identity(caller: &Caller) -> Value {
    match caller {
        Caller::Root { account } => json!({
            "AccountId": account, "UserId": account, "PrincipalId": account,
            "IdentityType": "Account", "Arn": format!("acs:ram::{account}:root"),
        }),
        Caller::User { account, name } => {
            let uid = format!(
                "2{:017}",
                name.bytes()
                    .fold(7u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)))
                    % 100_000_000_000_000_000
            );
            json!({
                "AccountId": account, "UserId": uid, "PrincipalId": uid,
                "IdentityType": "RAMUser", "Arn": format!("acs:ram::{account}:user/{name}"),
            })
        }
        Caller::Role {
            account,
            role,
            role_id,
            session,
        } => json!({
            "AccountId": account, "UserId": format!("{role_id}:{session}"),
            "PrincipalId": format!("{role_id}:{session}"), "RoleId": role_id,
            "IdentityType": "AssumedRoleUser",
            "Arn": format!("acs:ram::{account}:assumed-role/{role}/{session}"),
        }),
    }
}

/// `(account, role name)` of `acs:ram::<account>:role/<name>`.
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, name) = rest.split_once(":role/")?;
    (!account.is_empty() && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

fn check_session_name(name: &str) -> Result<(), Fail> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(fail(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        ))
    }
}

fn duration(params: &[(String, String)], role: &Role) -> Result<Duration, Fail> {
    let max = role.max_session_duration.0;
    let asked = match param(params, "DurationSeconds") {
        None => Duration::from_secs(3600).min(max),
        Some(v) => Duration::from_secs(v.parse::<u64>().unwrap_or(0)),
    };
    if asked < Duration::from_secs(900) || asked > max {
        return Err(fail(
            400,
            "InvalidParameter.DurationSeconds",
            format!(
                "The Min/Max value of DurationSeconds is 15min/{}s.",
                max.as_secs()
            ),
        ));
    }
    Ok(asked)
}

fn check_policy(params: &[(String, String)]) -> Result<(), Fail> {
    if let Some(p) = param(params, "Policy")
        && serde_json::from_str::<Value>(p).is_err()
    {
        return Err(fail(
            400,
            "InvalidParameter.PolicyGrammar",
            "The parameter Policy has not passed grammar check.",
        ));
    }
    Ok(())
}

fn not_authorized() -> Fail {
    fail(
        403,
        "NoPermission",
        "You are not authorized to do this action. You should be authorized by RAM.",
    )
}

fn assume_role(
    emulator: &Emulator,
    caller: &Caller,
    params: &[(String, String)],
    now: Instant,
) -> Result<Value, Fail> {
    if matches!(caller, Caller::Root { .. }) {
        return Err(fail(
            403,
            "NoPermission",
            "Roles may not be assumed by root accounts.",
        ));
    }
    let arn = required(params, "RoleArn")?;
    let session = required(params, "RoleSessionName")?;
    check_session_name(session)?;
    let (account, name) = parse_role_arn(arn).ok_or_else(|| {
        fail(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        )
    })?;
    let role = emulator.role(account, name).ok_or_else(|| {
        fail(
            404,
            "EntityNotExist.Role",
            format!("The specified Role not exists: {arn}."),
        )
    })?;
    let world_account = emulator.inner.world.account_id.as_str();
    let trusted = if role.trusted_accounts.is_empty() {
        vec![role.account_id.as_deref().unwrap_or(world_account)]
    } else {
        role.trusted_accounts.iter().map(String::as_str).collect()
    };
    if !trusted.contains(&caller.account()) {
        return Err(not_authorized());
    }
    if let Some(want) = &role.external_id
        && param(params, "ExternalId") != Some(want.as_str())
    {
        return Err(not_authorized());
    }
    let d = duration(params, role)?;
    check_policy(params)?;
    Ok(emulator.issue(role, session, d, now))
}

fn oidc_fail(code: &str, message: &str) -> Fail {
    fail(401, code, message)
}

/// The claims decom's emulator checks.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    aud: Value,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
}

fn decode_jwt(token: &str) -> Result<Claims, Fail> {
    let invalid = |m: &str| oidc_fail("AuthenticationFail.OIDCToken.Invalid", m);
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(invalid(
            "The number of Jwt field should be divided into 3 parts with '.' .",
        ));
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let decode = |p: &str| {
        b64.decode(p.trim_end_matches('='))
            .map_err(|_| invalid("Cannot decode base64 encoded response(format invalided)."))
    };
    let header: Value = serde_json::from_slice(&decode(parts[0])?)
        .map_err(|_| invalid("The Jwt content is invalid that cannot be recognized."))?;
    if header.get("alg").and_then(Value::as_str) == Some("HS256") {
        return Err(invalid(
            "The algorithm HS256 that be specified in Jwt header is unknown.",
        ));
    }
    serde_json::from_slice(&decode(parts[1])?)
        .map_err(|_| invalid("The Jwt content is invalid that cannot be recognized."))
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

fn assume_role_with_oidc(
    emulator: &Emulator,
    params: &[(String, String)],
    now: Instant,
) -> Result<Value, Fail> {
    let arn = required(params, "RoleArn")?;
    let provider_arn = required(params, "OIDCProviderArn")?;
    let token = param(params, "OIDCToken").ok_or_else(|| {
        oidc_fail(
            "AuthenticationFail.OIDCToken.Invalid",
            "The OIDCToken can not empty.",
        )
    })?;
    let session = param(params, "RoleSessionName").unwrap_or("oidc-session");
    check_session_name(session)?;
    let world_account = emulator.inner.world.account_id.clone();
    let provider = provider_arn
        .strip_prefix("acs:ram::")
        .and_then(|r| r.split_once(":oidc-provider/"))
        .and_then(|(account, name)| {
            emulator.sts_world().oidc_providers.iter().find(|p| {
                p.name == name && p.account_id.as_deref().unwrap_or(&world_account) == account
            })
        })
        .ok_or_else(|| {
            oidc_fail(
                "AuthenticationFail.NoPermission",
                "No such OIDC Provider registered.",
            )
        })?;
    let claims = decode_jwt(token)?;
    if claims
        .exp
        .is_some_and(|exp| exp <= jiff::Timestamp::now().as_second())
    {
        return Err(oidc_fail(
            "AuthenticationFail.OIDCToken.Expired",
            "This JsonWebToken is expired.",
        ));
    }
    if claims.iss != provider.issuer {
        return Err(oidc_fail(
            "AuthenticationFail.OIDCToken.Invalid",
            "The issuer of the Jwt does not match the OIDC provider.",
        ));
    }
    let auds: Vec<&str> = match &claims.aud {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !auds
        .iter()
        .any(|a| provider.audiences.iter().any(|p| p == a))
    {
        return Err(oidc_fail(
            "AuthenticationFail.OIDCToken.AudienceNotMatch",
            "Invalid audience.",
        ));
    }
    let (account, name) = parse_role_arn(arn).ok_or_else(|| {
        fail(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        )
    })?;
    let role = emulator.role(account, name).ok_or_else(|| {
        fail(
            404,
            "EntityNotExist.Role",
            format!("The specified Role not exists: {arn}."),
        )
    })?;
    let trusts = role.trusted_oidc_providers.contains(&provider.name)
        && (role.oidc_subjects.is_empty()
            || role.oidc_subjects.iter().any(|p| glob(p, &claims.sub)));
    if !trusts {
        return Err(oidc_fail(
            "AuthenticationFail.NoPermission",
            "There is no permission",
        ));
    }
    let d = duration(params, role)?;
    check_policy(params)?;
    let mut body = emulator.issue(role, session, d, now);
    let time = |t: Option<i64>| {
        t.and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    body["OIDCTokenInfo"] = json!({
        "Issuer": claims.iss, "Subject": claims.sub, "ClientIds": auds.join(","),
        "ExpirationTime": time(claims.exp), "IssuanceTime": time(claims.iat),
        "VerificationInfo": "Success: the emulator checks claims, not signatures",
    });
    Ok(body)
}

/// An unsigned request: `AssumeRoleWithOIDC` (anonymous by design) is served, anything else
/// is left to the signature check. `None` when the request is signed.
pub fn anonymous(emulator: &Emulator, req: &WireRequest) -> Option<Result<Value, Fail>> {
    let signed = req.header("authorization").is_some()
        || req.all_params().iter().any(|(k, _)| k == "Signature");
    if signed {
        return None;
    }
    let action = req
        .header("x-acs-action")
        .or_else(|| req.query_param("Action"))?;
    if action != "AssumeRoleWithOIDC" {
        return None;
    }
    let params: Vec<(String, String)> = req
        .all_params()
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "Action" | "Version" | "Format" | "Timestamp" | "SignatureNonce"
            )
        })
        .collect();
    Some(assume_role_with_oidc(emulator, &params, Instant::now()))
}

fn plain(status: u16, body: impl Into<Vec<u8>>) -> WireResponse {
    WireResponse {
        status,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: body.into(),
    }
}

/// The metadata and credentials-URI fronts; `None` for every other path.
pub fn front(emulator: &Emulator, req: &WireRequest) -> Option<WireResponse> {
    const CREDS: &str = "/latest/meta-data/ram/security-credentials/";
    let now = Instant::now();
    if let Some(role) = req.path.strip_prefix("/_emulator/credentials/") {
        return Some(role_credentials(emulator, role, now));
    }
    if !req.path.starts_with("/latest/") {
        return None;
    }
    let Some(ecs_role) = emulator.books_sts().ecs_role.clone() else {
        return Some(plain(
            404,
            "the ECS metadata front is off (emulator serve --ecs-role)",
        ));
    };
    if req.path == "/latest/api/token" {
        if req.method != "PUT" {
            return Some(plain(405, "PUT only"));
        }
        let token = random();
        emulator.books_sts().imds_tokens.push(token.clone());
        return Some(plain(200, token));
    }
    if let Some(t) = req.header("x-aliyun-ecs-metadata-token")
        && !emulator.books_sts().imds_tokens.iter().any(|k| k == t)
    {
        return Some(plain(401, "invalid metadata token"));
    }
    match req.path.strip_prefix(CREDS) {
        Some("") => Some(plain(200, ecs_role)),
        Some(role) if role == ecs_role => Some(role_credentials(emulator, role, now)),
        _ => Some(plain(404, "not found")),
    }
}

/// The metadata-shaped answer with fresh credentials of `role`.
fn role_credentials(emulator: &Emulator, role: &str, now: Instant) -> WireResponse {
    let world = emulator.inner.world.account_id.clone();
    let Some(r) = emulator.role(&world, role).cloned() else {
        return plain(404, "no such role");
    };
    let issued = emulator.issue(&r, "decom-emulator", r.max_session_duration.0, now);
    let c = &issued["Credentials"];
    WireResponse::json(
        200,
        &json!({
            "Code": "Success", "AccessKeyId": c["AccessKeyId"], "AccessKeySecret": c["AccessKeySecret"],
            "SecurityToken": c["SecurityToken"], "Expiration": c["Expiration"],
            "LastUpdated": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_role_arns() {
        assert!(glob(
            "repo:acme/*:ref:refs/heads/main",
            "repo:acme/net:ref:refs/heads/main"
        ));
        assert!(!glob("repo:acme/*", "repo:other/net"));
        assert!(glob("*", ""));
        assert_eq!(parse_role_arn("acs:ram::123:role/ci"), Some(("123", "ci")));
        assert_eq!(parse_role_arn("acs:ram::abc:role/ci"), None);
    }
}
