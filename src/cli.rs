//! Command-line interface: clap definitions, parse-then-validate into library calls, and the
//! mapping of every outcome to an exit code from [`crate::exit`].

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::api::credentials::{self, ChainInputs, ExplicitCredentials};
use crate::api::{
    self, ApiRequest, ClientConfig, Endpoints, Product, ReadClient, RetryPolicy, Secret,
    SignatureVersion, WriteClient, actions,
};
use crate::emulator::Emulator;
use crate::exit;

pub mod cmdline;
pub mod completions;

/// `decom --version`: the crate version and, when built from a git checkout, the commit.
pub const VERSION: &str = if env!("DECOM_COMMIT").is_empty() {
    env!("CARGO_PKG_VERSION")
} else {
    concat!(env!("CARGO_PKG_VERSION"), " (", env!("DECOM_COMMIT"), ")")
};

/// decom: declarative teardown of Alibaba Cloud networking (Express Connect circuits, VBRs,
/// transit-router attachments, IPsec-VPN connections).
#[derive(Debug, Parser)]
#[command(name = "decom", version = VERSION, about, after_help = after_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after any subcommand. `--max-input-size` applies everywhere
/// ("Global options"); the connection and credential flags ("Connection options") only to
/// the commands that talk to the API, and [`command`] hides them from the others' help.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Send every product's requests to this endpoint (e.g. an emulator on loopback).
    /// Plain http:// is accepted only for loopback hosts.
    #[arg(long, global = true, env = "DECOM_ENDPOINT", value_name = "URL", help_heading = CONNECTION)]
    pub endpoint: Option<String>,
    /// Default region for requests that need one.
    #[arg(
        long,
        global = true,
        help_heading = CONNECTION,
        env = "ALIBABA_CLOUD_REGION_ID",
        value_name = "REGION"
    )]
    pub region: Option<String>,
    /// Signature algorithm: v3 (ACS3-HMAC-SHA256, default) or v1 (HMAC-SHA1).
    #[arg(
        long,
        global = true,
        help_heading = CONNECTION,
        env = "DECOM_SIGNATURE",
        default_value = "v3",
        value_name = "v1|v3"
    )]
    pub signature: SignatureVersion,
    /// AccessKeyId (overrides the environment and credential files).
    #[arg(long, global = true, value_name = "ID", help_heading = CONNECTION)]
    pub access_key_id: Option<String>,
    /// AccessKeySecret (prefer ALIBABA_CLOUD_ACCESS_KEY_SECRET: flags show up in `ps`).
    #[arg(
        long,
        global = true,
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub access_key_secret: Option<String>,
    /// STS security token for temporary credentials.
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub security_token: Option<String>,
    /// Largest plan, world or saved-plan file decom reads: bytes, or with a K/M/G suffix.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "DECOM_MAX_INPUT_SIZE",
        default_value = "16M",
        value_name = "SIZE",
        value_parser = crate::input::parse_size
    )]
    pub max_input_size: u64,
    /// How long a read keeps retrying throttling and transient errors after its first send
    /// (e.g. 90s, 5m).
    #[arg(
        long,
        global = true,
        help_heading = CONNECTION,
        env = "DECOM_READ_TIMEOUT",
        default_value = "5m",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub read_timeout: std::time::Duration,
    /// Also trust the CA certificates of this PEM bundle (e.g. a TLS-intercepting proxy's);
    /// SSL_CERT_FILE and SSL_CERT_DIR are honoured too.
    #[arg(
        long,
        global = true,
        env = "DECOM_CA_BUNDLE",
        value_name = "FILE",
        help_heading = CONNECTION
    )]
    pub ca_bundle: Option<std::path::PathBuf>,
    /// Credentials profile: a profile of ~/.aliyun/config.json or a section of the
    /// credentials file; its region_id is the default --region.
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// Run against an embedded emulator seeded from this world file (no cloud account).
    #[arg(
        long,
        global = true,
        value_name = "WORLD",
        conflicts_with = "endpoint",
        help_heading = CONNECTION
    )]
    pub emulator: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a plan file offline (syntax, kinds, ids, regions, window, protect rules).
    Validate {
        /// The plan file.
        plan: std::path::PathBuf,
    },
    /// Read-only preview: discover the targets and their blockers, show every step and why.
    Plan(PlanArgs),
    /// Execute a plan (or a plan saved with `plan --out`): concurrently, idempotently,
    /// resumably, with progress and a final report.
    Apply(ApplyArgs),
    /// The step graph of a plan, as DOT or Mermaid.
    Graph(GraphArgs),
    /// Print a plan saved with `decom plan --out` (offline): its rails, steps and origin.
    Show(ShowArgs),
    /// Read-only: write what the plan's discovery sees as an emulator world file, to
    /// rehearse the plan with `decom apply PLAN --emulator WORLD`.
    Snapshot(SnapshotArgs),
    /// What the journal of the current or last apply of a plan says (readable while it runs).
    Status(StatusArgs),
    /// Send one signed API request and print the JSON answer (like the aliyun CLI).
    Api(ApiArgs),
    /// The local Alibaba Cloud emulator.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
    /// Print a shell completion script (e.g. `decom completions bash > ~/.local/share/bash-completion/completions/decom`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `decom emulator ...`.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve a world over HTTP until SIGINT/SIGTERM. The first stdout line is a JSON object
    /// with the endpoint, the first access key pair and the account id.
    Serve(ServeArgs),
    /// Check a world file and print a summary.
    Check {
        /// The world file.
        #[arg(long)]
        world: std::path::PathBuf,
    },
}

/// `decom emulator serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The world file (YAML).
    #[arg(long)]
    pub world: std::path::PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Append every audit entry as a JSON line to this file.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<std::path::PathBuf>,
    /// Also serve the ECS metadata front (`/latest/...`, IMDSv2) with credentials of this
    /// role of the world's `sts.roles` (point DECOM_ECS_METADATA_URL at the endpoint).
    #[arg(long, value_name = "ROLE")]
    pub ecs_role: Option<String>,
}

/// Preview formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A diff for humans (colour on a TTY unless NO_COLOR).
    Human,
    /// JSON: `plan` prints the versioned document (format_version 1), `apply` JSON lines
    /// (one event per line, the report last; see the README).
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// `decom plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file.
    pub plan: std::path::PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "human")]
    pub output: OutputFormat,
    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan (steps, ClientTokens, state fingerprints) for `decom apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Where apply keeps its journals: read (never written) to tell a selector whose
    /// resources an earlier apply removed from one that matches nothing.
    #[arg(long, default_value = ".decom", env = "DECOM_STATE_DIR")]
    pub state_dir: std::path::PathBuf,
}

/// `decom snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The plan file.
    pub plan: std::path::PathBuf,
    /// The world file to write.
    #[arg(long, value_name = "WORLD.yaml")]
    pub out: std::path::PathBuf,
    /// Replace ids, names, account ids, tag values and addresses consistently (for a bug
    /// report); write the plan rewritten the same way with --plan-out.
    #[arg(long)]
    pub anonymize: bool,
    /// With --anonymize: also write the plan with the same replacements.
    #[arg(long, value_name = "FILE", requires = "anonymize")]
    pub plan_out: Option<std::path::PathBuf>,
    /// Divide every transition time by N (a fast rehearsal).
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub scale: f64,
    /// Override one timing of the world (repeatable), e.g. --timing terminate_physical_connection=5m.
    #[arg(long, value_name = "KEY=DURATION")]
    pub timing: Vec<String>,
}

/// `decom status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The plan file (default: every journal under the state directory).
    pub plan: Option<std::path::PathBuf>,
    /// Where apply keeps its journals.
    #[arg(long, default_value = ".decom", env = "DECOM_STATE_DIR")]
    pub state_dir: std::path::PathBuf,
    /// Output format (human or json).
    #[arg(long, short, value_enum, default_value = "human")]
    pub output: OutputFormat,
}

/// `decom show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The saved plan (`decom plan --out FILE`).
    pub saved: std::path::PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "human")]
    pub output: OutputFormat,
}

/// `decom apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file, or a plan saved with `decom plan --out`.
    pub plan: std::path::PathBuf,
    /// Do not ask for confirmation (required without a TTY).
    #[arg(long, short)]
    pub yes: bool,
    /// API calls in flight at most (waits sleeping between polls do not count).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub parallelism: u32,
    /// Stop scheduling at the first failure (in-flight steps finish).
    #[arg(long)]
    pub fail_fast: bool,
    /// Where the journal and lock live.
    #[arg(long, default_value = ".decom", env = "DECOM_STATE_DIR")]
    pub state_dir: std::path::PathBuf,
    /// Before the plan's window opens, sleep until it does instead of exiting 4.
    #[arg(long)]
    pub wait_for_window: bool,
    /// Deadline of every step, overriding the per-kind defaults (e.g. 90s, 20m; above 0).
    #[arg(long, value_parser = parse_positive_duration)]
    pub step_timeout: Option<std::time::Duration>,
    /// First poll of a wait after its call (e.g. 2s; shorter against the emulator).
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub poll_interval: std::time::Duration,
    /// Longest interval between polls / retries.
    #[arg(long, value_parser = parse_duration, default_value = "20s")]
    pub max_interval: std::time::Duration,
    /// Multiply the documented API quotas (a rehearsal against a scaled emulator; a finite
    /// number above 0).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub rate_scale: f64,
    /// Output: human (progress on stderr, report on stdout), json (JSON lines on stdout: one
    /// event per line, the report or the exit code last), markdown (the report).
    #[arg(long, short, value_enum, default_value = "human")]
    pub output: OutputFormat,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::emulator::world::Dur::parse(s).map(|d| d.0)
}

/// A duration above zero (a zero deadline would time every step out at once).
fn parse_positive_duration(s: &str) -> Result<std::time::Duration, String> {
    parse_duration(s).and_then(|d| {
        if d.is_zero() {
            Err("must be longer than 0".into())
        } else {
            Ok(d)
        }
    })
}

/// A finite number above 0 (like the world file's `rate_limits.scale`).
fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a finite number above 0")),
    }
}

/// Graph formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// `decom graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The plan file.
    pub plan: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
}

/// `decom api`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The action, e.g. DescribePhysicalConnections.
    pub action: String,
    /// Parameters as Key=Value (e.g. RegionId=cn-hangzhou Filter.1.Key=Status).
    #[arg(value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Product of an action decom does not know (Vpc, Cbn, Sts); inferred otherwise.
    #[arg(long)]
    pub product: Option<Product>,
    /// Allow a mutating action (Delete*, Terminate*, ...). Without it only reads are sent.
    #[arg(long)]
    pub allow_mutation: bool,
}

/// `decom --help`'s closing text: the exit codes and the logging variables.
fn after_help() -> String {
    format!(
        "{}\n\nLogging (stderr): RUST_LOG or DECOM_LOG, e.g. DECOM_LOG=debug for one line per API call",
        exit::TABLE
    )
}

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";
/// The help heading of the connection and credential options.
const CONNECTION: &str = "Connection options";

/// The clap command: [`Cli`] with its global options propagated, and the connection options
/// hidden from the commands that never connect (`validate`, `emulator`, `completions`).
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    let cmd = Cli::command();
    // A subcommand that already has an argument of a global's id does not receive the
    // global: give those that never connect hidden copies, before clap propagates.
    let connection: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.get_help_heading() == Some(CONNECTION))
        .map(|a| a.clone().global(false).hide(true))
        .collect();
    let mut cmd = cmd;
    for name in NOT_CONNECTING {
        cmd = cmd.mut_subcommand(name, |s| s.args(connection.clone()));
    }
    cmd
}

/// The commands that never talk to the API.
const NOT_CONNECTING: [&str; 4] = ["validate", "emulator", "completions", "status"];

/// Connection options given on the command line of a command that does not connect: an
/// error rather than silently ignored.
fn misplaced_connection_options(matches: &clap::ArgMatches) -> Option<String> {
    let (name, sub) = matches.subcommand()?;
    if !NOT_CONNECTING.contains(&name) {
        return None;
    }
    let cmd = command();
    let ids: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.get_help_heading() == Some(CONNECTION))
        .collect();
    let mut m = sub;
    let mut path = name.to_string();
    while let Some((n, inner)) = m.subcommand() {
        path = format!("{path} {n}");
        m = inner;
    }
    ids.iter().find_map(|a| {
        let id = a.get_id().as_str();
        let given = |m: &clap::ArgMatches| {
            m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        };
        (given(matches) || given(sub)).then(|| {
            format!(
                "--{} does not apply to `decom {path}`",
                a.get_long().unwrap_or_default()
            )
        })
    })
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    use clap::FromArgMatches as _;
    let matches = command().get_matches();
    if let Some(e) = misplaced_connection_options(&matches) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::ERROR);
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    crate::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("decom-worker")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(plan_errors) = e.downcast_ref::<PlanLoadError>() {
                // Already rendered rustc-style, one `error:` block per problem.
                eprintln!("{plan_errors}");
            } else if let Some(w) = e.downcast_ref::<crate::emulator::world::WorldError>() {
                // Every problem of the world file, rustc-style like a plan's.
                let text =
                    crate::input::read_text(std::path::Path::new(&w.file)).unwrap_or_default();
                let problems = w
                    .problems
                    .iter()
                    .map(|p| (p.line, p.column, p.message.clone()));
                eprintln!(
                    "{}",
                    crate::plan::PlanErrors::of_file(&w.file, &text, problems)
                );
            } else {
                eprintln!("error: {}", error_chain(&e));
            }
            ExitCode::from(exit::ERROR)
        }
    }
}

/// An error and its causes, `: `-separated, each said once: a wrapper that quotes its cause
/// (`discovery failed: <cause>`) does not get the cause repeated after it.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Run a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    crate::input::set_limit(cli.global.max_input_size);
    match cli.command {
        Command::Validate { plan } => validate_command(&plan),
        Command::Plan(args) => plan_command(&cli.global, args).await,
        Command::Graph(args) => graph_command(&cli.global, args).await,
        Command::Show(args) => show_command(args),
        Command::Snapshot(args) => snapshot_command(&cli.global, args).await,
        Command::Status(args) => {
            let name = match &args.plan {
                Some(p) => Some(load_plan_or_saved(p)?.0.name),
                None => None,
            };
            crate::status::command(
                &args.state_dir,
                name.as_deref(),
                args.output == OutputFormat::Json,
            )
        }
        Command::Apply(args) => apply_command(&cli.global, args).await,
        Command::Api(args) => api_command(&cli.global, args).await,
        Command::Emulator(EmulatorCommand::Serve(args)) => serve_command(args).await,
        Command::Completions { shell } => {
            crate::progress::emit(&completions::script(shell));
            Ok(exit::SUCCESS)
        }
        Command::Emulator(EmulatorCommand::Check { world }) => {
            let emulator = Emulator::load(&world)?;
            let count = emulator.with_state(|s| s.resource_count());
            crate::progress::emit(&format!(
                "{}: ok, account {}, {count} resources",
                world.display(),
                emulator.account_id()
            ));
            Ok(exit::SUCCESS)
        }
    }
}

/// Credentials from the flags and the default chain; STS and credentials-URI requests go
/// through `transport`, metadata requests through a client with short timeouts.
pub fn resolve_credentials(
    global: &GlobalArgs,
    transport: Arc<dyn api::Transport>,
) -> anyhow::Result<credentials::Resolved> {
    let explicit = ExplicitCredentials {
        access_key_id: global.access_key_id.clone(),
        access_key_secret: global.access_key_secret.clone().map(Secret::new),
        security_token: global.security_token.clone().map(Secret::new),
    };
    let network = credentials::Network {
        transport,
        metadata_transport: Arc::new(api::http::HttpTransport::new(metadata_http_options())?),
        endpoint_override: global
            .endpoint
            .as_deref()
            .map(Endpoints::parse_override)
            .transpose()?,
        signature: global.signature,
    };
    let inputs = ChainInputs::from_process(explicit, global.profile.clone(), network);
    Ok(credentials::resolve(&inputs)?)
}

/// The metadata service answers at once on ECS and not at all elsewhere: 1 s timeouts, like
/// the SDK's, keep the chain's ECS step from stalling a laptop.
#[allow(clippy::field_reassign_with_default)] // HttpOptions may gain fields; keep their defaults
fn metadata_http_options() -> api::http::HttpOptions {
    let mut o = api::http::HttpOptions::default();
    o.connect_timeout = std::time::Duration::from_secs(1);
    o.request_timeout = std::time::Duration::from_secs(1);
    o
}

/// The selected aliyun CLI profile's `region_id` (the default `--region`), without
/// resolving any credentials.
pub fn profile_region(global: &GlobalArgs) -> Option<String> {
    if global.emulator.is_some() {
        return None;
    }
    let transport: Arc<dyn api::Transport> =
        Arc::new(api::http::HttpTransport::new(api::http::HttpOptions::default()).ok()?);
    resolve_credentials(global, transport).ok()?.region
}

/// Endpoints from `--endpoint`, else the public cloud.
pub fn resolve_endpoints(global: &GlobalArgs) -> anyhow::Result<Endpoints> {
    Ok(match &global.endpoint {
        Some(url) => Endpoints::parse_override(url)?,
        None => Endpoints::Cloud,
    })
}

/// The configuration and transport the global flags select: the embedded emulator with
/// `--emulator WORLD` (its own credentials), else HTTPS (or loopback HTTP) with the normal
/// credential chain.
pub fn connection(global: &GlobalArgs) -> anyhow::Result<(ClientConfig, Arc<dyn api::Transport>)> {
    if let Some(world) = &global.emulator {
        let emulator = Emulator::load(world)?;
        let config = ClientConfig {
            endpoints: Endpoints::parse_override("http://127.0.0.1")?,
            credentials: emulator.credentials().into(),
            signature: global.signature,
            retry: retry_policy(global),
        };
        return Ok((config, emulator.transport()));
    }
    let transport: Arc<dyn api::Transport> =
        Arc::new(api::http::HttpTransport::new(api::http::HttpOptions {
            ca_bundle: global.ca_bundle.clone(),
            ..Default::default()
        })?);
    let config = ClientConfig {
        endpoints: resolve_endpoints(global)?,
        credentials: resolve_credentials(global, transport.clone())?.provider,
        signature: global.signature,
        retry: retry_policy(global),
    };
    Ok((config, transport))
}

/// The client's own retries: reads until `--read-timeout`.
fn retry_policy(global: &GlobalArgs) -> RetryPolicy {
    RetryPolicy {
        read_timeout: Some(global.read_timeout),
        ..RetryPolicy::default()
    }
}

/// A read-write client (only `apply` and `api --allow-mutation` build one).
pub fn write_client(global: &GlobalArgs) -> anyhow::Result<WriteClient> {
    let (config, transport) = connection(global)?;
    Ok(WriteClient::new(config, transport))
}

/// A read-only client: `plan`, `graph` and reads of `api` hold only this.
pub fn read_client(global: &GlobalArgs) -> anyhow::Result<ReadClient> {
    let (config, transport) = connection(global)?;
    Ok(ReadClient::new(config, transport))
}

/// Build the request of `decom api` from its arguments.
pub fn api_request(global: &GlobalArgs, args: &ApiArgs) -> anyhow::Result<ApiRequest> {
    let product = match (args.product, actions::lookup(&args.action)) {
        (Some(p), _) => p,
        (None, Some(info)) => info.product,
        (None, None) => bail!(
            "decom does not know the action {:?}; pass --product Vpc|Cbn|Sts",
            args.action
        ),
    };
    let mut req = ApiRequest::new(product, &args.action);
    for kv in &args.params {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("parameter {kv:?} is not KEY=VALUE"))?;
        if k.is_empty() {
            bail!("parameter {kv:?} has an empty name");
        }
        req = req.param(k, v);
    }
    if let Some(region) = req
        .get("RegionId")
        .map(str::to_string)
        .or_else(|| global.region.clone())
        .or_else(|| profile_region(global))
    {
        req.region = Some(region);
    }
    Ok(req)
}

async fn api_command(global: &GlobalArgs, args: ApiArgs) -> anyhow::Result<u8> {
    let req = api_request(global, &args)?;
    let mutating = actions::access_of(&req.action) == actions::Access::Mutate;
    if mutating && !args.allow_mutation {
        bail!(
            "{} changes resources; add --allow-mutation to send it",
            req.action
        );
    }
    let value = if mutating {
        write_client(global)?.call(&req).await?
    } else {
        read_client(global)?.call(&req).await?
    };
    crate::progress::emit(&serde_json::to_string_pretty(&value)?);
    Ok(exit::SUCCESS)
}

async fn serve_command(args: ServeArgs) -> anyhow::Result<u8> {
    let emulator = Emulator::load(&args.world)?;
    if let Some(path) = &args.audit_log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the audit log {}", path.display()))?;
        emulator.set_audit_file(file);
    }
    if let Some(role) = &args.ecs_role {
        emulator.set_ecs_role(role);
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    let creds = emulator.credentials();
    let mut banner = serde_json::json!({
        "endpoint": format!("http://{addr}"),
        "access_key_id": creds.access_key_id,
        "access_key_secret": creds.access_key_secret.expose(),
        "account_id": emulator.account_id(),
    });
    if let Some(token) = &creds.security_token {
        banner["security_token"] = serde_json::json!(token.expose());
    }
    // A reader that closed the pipe after the banner (or before) does not stop the server.
    crate::progress::emit(&banner.to_string());
    eprintln!(
        "decom emulator: serving {} on http://{addr} (Ctrl-C to stop)",
        args.world.display()
    );
    crate::emulator::server::serve(emulator, listener, shutdown).await?;
    Ok(exit::SUCCESS)
}

/// Register SIGINT and SIGTERM handlers now, and return a future that completes on either.
/// Registering before announcing readiness means a signal sent right after the banner is
/// never lost.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static>
{
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// A plan file that failed to load: the rendered, located errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PlanLoadError(crate::plan::PlanErrors);

fn load_plan(path: &std::path::Path) -> anyhow::Result<crate::plan::Plan> {
    // A saved plan given where a plan file is expected: say what it is and what to run.
    if let Ok(text) = crate::input::read_text(path)
        && crate::saved::looks_saved(&text)
    {
        bail!(
            "{p} is a saved plan (written by `decom plan --out`), not a plan file: show it with `decom show {p}`, apply it with `decom apply {p}`",
            p = path.display()
        );
    }
    crate::plan::load(path).map_err(|e| anyhow::Error::new(PlanLoadError(e)))
}

fn validate_command(path: &std::path::Path) -> anyhow::Result<u8> {
    let plan = load_plan(path)?;
    crate::progress::emit(&format!(
        "{}: ok: plan {:?}, {} target(s), cascade {}",
        path.display(),
        plan.name,
        plan.targets.len(),
        if plan.policy.cascade { "on" } else { "off" }
    ));
    if let Some(w) = &plan.window {
        let now = jiff::Timestamp::now();
        if now > w.not_after {
            eprintln!(
                "warning: {}: the window closed at {} ({}): apply will refuse (exit 4) until it is moved",
                path.display(),
                w.not_after,
                crate::render::header::window_state(w, now)
            );
        }
    }
    Ok(exit::SUCCESS)
}

/// Discover and build the graph of a plan file with a read-only client.
pub async fn preview(
    global: &GlobalArgs,
    path: &std::path::Path,
) -> anyhow::Result<(
    crate::plan::Plan,
    crate::discover::Inventory,
    crate::graph::Graph,
)> {
    let plan = load_plan(path)?;
    tracing::info!(plan = %plan.name, targets = plan.targets.len(), file = %path.display(), "plan loaded");
    let client = read_client(global)?;
    let inventory = crate::discover::discover(&client, &plan).await?;
    tracing::info!(
        resources = inventory.resources.len(),
        calls = client.call_counts().values().sum::<u64>(),
        "discovery done"
    );
    // The client (with `--emulator`, the whole emulated world) is not needed to build the
    // graph: freed before, so the two never take memory together.
    drop(client);
    release_free_memory();
    let graph = crate::graph::build(&plan, &inventory)?;
    tracing::info!(
        steps = graph.steps.len(),
        deletions = graph.deletions,
        "graph built"
    );
    Ok((plan, inventory, graph))
}

fn use_color() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// The endpoint of this run, as saved plans and journal keys name it.
fn endpoint_label(global: &GlobalArgs) -> String {
    crate::saved::endpoint_label(global.endpoint.as_deref(), global.emulator.as_deref())
}

/// The journal of a plan for this account and endpoint (empty when there is none).
fn journal_dir(
    state_dir: &std::path::Path,
    plan: &crate::plan::Plan,
    account: &str,
    global: &GlobalArgs,
) -> std::path::PathBuf {
    crate::exec::journal::Journal::dir_for(
        state_dir,
        &plan.name,
        &plan.journal_fingerprint(),
        account,
        &endpoint_label(global),
    )
}

/// Selectors that matched nothing: the error message, when there are any.
fn matched_nothing_error(graph: &crate::graph::Graph) -> Option<String> {
    let list: Vec<String> = graph
        .entries
        .iter()
        .filter(|e| e.disposition == crate::graph::Disposition::MatchedNothing)
        .map(|e| format!("{} ({})", e.id, e.reason))
        .collect();
    (!list.is_empty()).then(|| {
        format!(
            "{} selector(s) matched nothing and no earlier apply of this plan (this account and endpoint) removed what they matched: check them for typos: {}",
            list.len(),
            list.join("; ")
        )
    })
}

async fn plan_command(global: &GlobalArgs, args: PlanArgs) -> anyhow::Result<u8> {
    let (plan, inventory, mut graph) = preview(global, &args.plan).await?;
    if let Some(account) = &inventory.account {
        let history = crate::exec::journal::Journal::history(&journal_dir(
            &args.state_dir,
            &plan,
            account,
            global,
        ))
        .unwrap_or_default();
        graph.settle_empty_selectors(&history.matched, |k, id| history.deleted(k, id));
    }
    // Only the account is needed from here on: the inventory goes before the output is made.
    let account = inventory.account.clone();
    drop(inventory);
    match args.output {
        OutputFormat::Human => crate::progress::emit(&crate::render::human(&graph, use_color())),
        OutputFormat::Json => crate::progress::emit_json(&crate::render::json_doc(&graph))?,
        OutputFormat::Markdown => crate::progress::emit(&crate::render::markdown(&graph)),
    }
    if let Some(out) = &args.out {
        let saved_at = jiff::Timestamp::now().to_string();
        let plan_file = args.plan.display().to_string();
        let plan_source = crate::input::read_text(&args.plan)
            .with_context(|| format!("cannot read {}", args.plan.display()))?;
        // The embedded text must be the plan that was checked.
        if crate::plan::parse(&plan_file, &plan_source)
            .map(|p| p.fingerprint != plan.fingerprint)
            .unwrap_or(true)
        {
            bail!(
                "{} changed while it was being planned: plan again",
                args.plan.display()
            );
        }
        let endpoint = endpoint_label(global);
        crate::saved::SavedPlanRef {
            format_version: crate::saved::VERSION as u32,
            saved_at: &saved_at,
            plan_file: &plan_file,
            plan_source: &plan_source,
            account: plan.account.as_deref().or(account.as_deref()),
            endpoint: &endpoint,
            graph: &graph,
        }
        .write(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!(
            "saved the plan to {} (show it with: decom show {}; apply it with: decom apply {})",
            out.display(),
            out.display(),
            out.display()
        );
    }
    if let (Some(want), Some(have)) = (&plan.account, &account)
        && want != have
    {
        eprintln!(
            "refused: the plan is for account {want}, but these credentials belong to account {have}"
        );
        return Ok(exit::REFUSED);
    }
    let counts = graph.counts();
    if let Some(e) = matched_nothing_error(&graph) {
        eprintln!("error: {e}");
        return Ok(exit::ERROR);
    }
    if graph.over_blast_radius() {
        eprintln!(
            "refused: {} deletions exceed policy.max_deletions {}",
            counts.deletions,
            graph.max_deletions.unwrap_or(0)
        );
        return Ok(exit::REFUSED);
    }
    if graph.refuses_blocked() {
        eprintln!(
            "error: {} resource(s) cannot be removed; see the blocked section above (policy.on_blocked: skip removes the rest)",
            counts.blocked
        );
        return Ok(if graph.blocked_by_protection() {
            exit::REFUSED
        } else {
            exit::ERROR
        });
    }
    if counts.blocked > 0 {
        eprintln!(
            "note: {} resource(s) cannot be removed and stay (policy.on_blocked: skip): apply will remove the rest and exit 3",
            counts.blocked
        );
    }
    Ok(if args.detailed_exitcode && counts.changes > 0 {
        exit::CHANGES_PENDING
    } else {
        exit::SUCCESS
    })
}

/// `decom graph`: the drawing (blocked and protected resources and their blockers
/// included), and the exit code `plan` would give: 1 blocked, 5 protected, over the blast
/// radius or another account.
async fn graph_command(global: &GlobalArgs, args: GraphArgs) -> anyhow::Result<u8> {
    let (plan, inventory, graph) = preview(global, &args.plan).await?;
    let text = match args.format {
        GraphFormat::Dot => crate::render::dot(&graph),
        GraphFormat::Mermaid => crate::render::mermaid(&graph),
    };
    crate::progress::emit(&text);
    let (_, _, blocked) = graph.summary();
    Ok(match (&plan.account, &inventory.account) {
        (Some(want), Some(have)) if want != have => {
            eprintln!(
                "refused: the plan is for account {want}, but these credentials belong to account {have}"
            );
            exit::REFUSED
        }
        _ if graph.over_blast_radius() => {
            eprintln!(
                "refused: {} deletions exceed policy.max_deletions {}",
                graph.deletions,
                graph.max_deletions.unwrap_or(0)
            );
            exit::REFUSED
        }
        _ if blocked > 0 => {
            eprintln!("error: {blocked} resource(s) cannot be removed (drawn with their blockers)");
            if graph.blocked_by_protection() {
                exit::REFUSED
            } else {
                exit::ERROR
            }
        }
        _ => exit::SUCCESS,
    })
}

/// `decom snapshot`: discovery with the read capability only, written as a world file.
async fn snapshot_command(global: &GlobalArgs, args: SnapshotArgs) -> anyhow::Result<u8> {
    if !(args.scale.is_finite() && args.scale > 0.0) {
        bail!("--scale {} must be a number above 0", args.scale);
    }
    let timings = crate::snapshot::timings(args.scale, &args.timing)?;
    let (plan, inventory, _graph) = preview(global, &args.plan).await?;
    let doc = crate::snapshot::build(&inventory);
    let (mut world, derived) = doc.finish(timings);
    let mut anonymizer = crate::snapshot::Anonymizer::default();
    let mut derived = derived;
    if args.anonymize {
        anonymizer.world(&mut world);
        derived = derived.iter().map(|d| anonymizer.text(d)).collect();
    }
    let endpoint = endpoint_label(global);
    let plan_name = if args.anonymize {
        anonymizer.words(&plan.name)
    } else {
        plan.name.clone()
    };
    let text = crate::snapshot::render(
        &world,
        &derived,
        &crate::snapshot::Header {
            plan: &plan_name,
            endpoint: &endpoint,
            anonymized: args.anonymize,
            scale: args.scale,
        },
    )?;
    // The file must be a world the emulator accepts.
    crate::emulator::world::World::parse(&args.out.display().to_string(), &text)
        .context("the snapshot is not a valid world (a decom bug: please report it)")?;
    std::fs::write(&args.out, &text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if let Some(p) = &args.plan_out {
        let source = crate::input::read_text(&args.plan)
            .with_context(|| format!("cannot read {}", args.plan.display()))?;
        std::fs::write(p, anonymizer.plan(&source)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    eprintln!(
        "wrote {} ({} resources, {} stand-ins){}; rehearse with: decom apply {} --emulator {}",
        args.out.display(),
        inventory.resources.len(),
        derived.len(),
        if args.anonymize { ", anonymized" } else { "" },
        args.plan_out.as_deref().unwrap_or(&args.plan).display(),
        args.out.display()
    );
    Ok(exit::SUCCESS)
}

/// `decom show SAVED`: a saved plan, offline.
fn show_command(args: ShowArgs) -> anyhow::Result<u8> {
    let path = &args.saved;
    let text =
        crate::input::read_text(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !crate::saved::looks_saved(&text) {
        bail!(
            "{p} is not a saved plan; preview a plan file with `decom plan {p}` (save it with --out FILE, then `decom show FILE`)",
            p = path.display()
        );
    }
    let (_, saved) = crate::saved::SavedPlan::parse(path, &text)?;
    match args.output {
        OutputFormat::Human => crate::progress::emit(&saved.show_human(path, use_color())),
        OutputFormat::Json => crate::progress::emit_json(&saved.show_json())?,
        OutputFormat::Markdown => crate::progress::emit(&saved.show_markdown(path)),
    }
    Ok(exit::SUCCESS)
}

/// A plan argument: a plan file, or a saved plan (JSON with a `graph`).
fn load_plan_or_saved(
    path: &std::path::Path,
) -> anyhow::Result<(crate::plan::Plan, Option<crate::saved::SavedPlan>)> {
    let text =
        crate::input::read_text(path).with_context(|| format!("cannot read {}", path.display()))?;
    if crate::saved::looks_saved(&text) {
        let (plan, saved) = crate::saved::SavedPlan::parse(path, &text)?;
        return Ok((plan, Some(saved)));
    }
    let plan = crate::plan::parse(&path.display().to_string(), &text)
        .map_err(|e| anyhow::Error::new(PlanLoadError(e)))?;
    Ok((plan, None))
}

/// Take `<state-dir>/locks/<account>-<region>.lock` for every region the graph mutates, in
/// sorted order; fails at once, naming the holder, when another apply holds one.
fn scope_locks(
    state_dir: &std::path::Path,
    account: &str,
    graph: &crate::graph::Graph,
    plan: &str,
) -> anyhow::Result<Vec<crate::exec::lock::Lock>> {
    let regions: std::collections::BTreeSet<&str> = graph
        .steps
        .iter()
        .filter(|s| s.action.is_mutation())
        .map(|s| s.region.as_str())
        .collect();
    let mut locks = Vec::new();
    for region in regions {
        let safe: String = format!("{account}-{region}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = state_dir.join("locks").join(format!("{safe}.lock"));
        let lock = crate::exec::lock::Lock::acquire(
            &path,
            &format!("the lock of account {account} in {region} (another plan may overlap)"),
            Some(plan),
        )?;
        if let Some(h) = &lock.took_over {
            eprintln!(
                "note: took over a stale lock from {} (no longer running)",
                h.describe()
            );
        }
        locks.push(lock);
    }
    Ok(locks)
}

/// Ask on the terminal; true only for `yes`. A Ctrl-C (SIGINT) or SIGTERM while waiting
/// counts as "no": the caller returns normally, so every lock is released (a signal's
/// default action would end the process with the locks' records left behind).
async fn confirm(prompt: &str) -> bool {
    eprint!("{prompt} Type 'yes' to continue: ");
    let _ = std::io::Write::flush(&mut std::io::stderr());
    let Ok(signal) = shutdown_signal() else {
        return false;
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A plain thread: a read of stdin cannot be cancelled, and a detached thread does not
    // hold the process open once apply returns.
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut line = String::new();
        let ok = std::io::stdin().lock().read_line(&mut line).is_ok();
        let _ = tx.send(ok && line.trim() == "yes");
    });
    tokio::select! {
        answer = rx => answer.unwrap_or(false),
        () = signal => {
            eprintln!();
            false
        }
    }
}

/// `decom apply`. With `--output json` the last stdout line is always the `report`, or an
/// `exit` event (refused, not due, error) with the exit code: see [`crate::progress::events`].
async fn apply_command(global: &GlobalArgs, args: ApplyArgs) -> anyhow::Result<u8> {
    let json = args.output == OutputFormat::Json;
    let mut reported = false;
    let result = apply_run(global, args, &mut reported).await;
    if json && !reported {
        let mut line = match &result {
            Ok(code) => crate::progress::events::exit(*code, None),
            Err(e) => crate::progress::events::exit(exit::ERROR, Some(&error_chain(e))),
        };
        if global.emulator.is_some() {
            line["rehearsal"] = serde_json::json!(true);
        }
        crate::progress::emit(&line.to_string());
    }
    result
}

async fn apply_run(
    global: &GlobalArgs,
    args: ApplyArgs,
    reported: &mut bool,
) -> anyhow::Result<u8> {
    use std::io::IsTerminal as _;
    let (plan, saved) = load_plan_or_saved(&args.plan)?;
    // A rehearsal (`--emulator WORLD`, e.g. a `decom snapshot`) says so wherever its output
    // could be mistaken for a run against the cloud.
    let rehearsal = global.emulator.as_ref().map(|w| {
        format!(
            "REHEARSAL against the emulator world {}: nothing in the cloud changes",
            w.display()
        )
    });
    if let Some(r) = &rehearsal
        && args.output != OutputFormat::Json
    {
        eprintln!("{r}");
    }
    // A saved plan applies only against the endpoint it was planned against: checked before
    // any call (without `--endpoint`, the cloud itself).
    if let Some(saved) = &saved
        && saved.endpoint != endpoint_label(global)
    {
        eprintln!(
            "refused: {} was planned against {}, but this apply talks to {}: plan again against the endpoint you mean to change",
            args.plan.display(),
            saved.endpoint,
            endpoint_label(global)
        );
        return Ok(exit::REFUSED);
    }
    let (config, transport) = connection(global)?;
    // Reads (identity, discovery) retry on their own; the executor owns the retries of its
    // steps (by error class, with its rate limiter), so its client does not retry.
    let reader = ReadClient::new(config.clone(), transport.clone());
    let client = WriteClient::new(
        ClientConfig {
            retry: RetryPolicy::none(),
            ..config
        },
        transport,
    );

    // 1. Account guard, before anything else: the plan's account, and the account a saved
    //    plan was recorded for.
    let identity = crate::api::ops::sts::get_caller_identity(&reader).await?;
    if let Some(recorded) = saved.as_ref().and_then(|s| s.account.as_ref())
        && *recorded != identity.account_id
    {
        eprintln!(
            "refused: {} was saved for account {recorded}, but these credentials belong to account {} ({})",
            args.plan.display(),
            identity.account_id,
            identity.arn
        );
        return Ok(exit::REFUSED);
    }
    if let Some(want) = &plan.account
        && *want != identity.account_id
    {
        eprintln!(
            "refused: the plan is for account {want}, but these credentials belong to account {} ({})",
            identity.account_id, identity.arn
        );
        return Ok(exit::REFUSED);
    }
    // 2. Schedule window.
    if let Some(w) = &plan.window {
        let now = jiff::Timestamp::now();
        if now > w.not_after {
            eprintln!(
                "not due: the plan's window closed at {}; nothing done",
                w.not_after
            );
            return Ok(exit::NOT_DUE);
        }
        if now < w.not_before {
            if !args.wait_for_window {
                eprintln!(
                    "not due: the plan's window opens at {} (use --wait-for-window to wait); nothing done",
                    w.not_before
                );
                return Ok(exit::NOT_DUE);
            }
            let wait = now.duration_until(w.not_before).unsigned_abs();
            eprintln!(
                "waiting {}s for the window to open at {}",
                wait.as_secs(),
                w.not_before
            );
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("interrupted while waiting for the window; nothing done");
                    return Ok(exit::PARTIAL);
                }
            }
        }
    }
    // 3. Lock and journal.
    // Keyed by plan, account and endpoint: a rehearsal never vouches for the real account.
    let dir = journal_dir(&args.state_dir, &plan, &identity.account_id, global);
    let mut journal = crate::exec::journal::Journal::open_for(&dir, Some(&plan.name))?;
    if let Some(stale) = &journal.took_over {
        eprintln!("note: took over a stale lock from {stale}");
    }
    let history = crate::exec::journal::Journal::history(&dir)?;
    if history.last_run_unfinished {
        eprintln!(
            "resuming: the last apply of this plan did not finish; finished steps are skipped, in-flight ones re-checked with the same ClientTokens"
        );
    }
    // 4. Discover and build the graph from the live state.
    let inventory = crate::discover::discover(&reader, &plan).await?;
    release_free_memory();
    let mut graph = crate::graph::build(&plan, &inventory)?;
    graph.settle_empty_selectors(&history.matched, |k, id| history.deleted(k, id));
    // 5. Saved-plan staleness: the live graph must be the saved one, whatever any journal
    //    says.
    if let Some(saved) = &saved {
        let changes = crate::saved::staleness(&saved.graph, &graph);
        if !changes.is_empty() {
            eprintln!(
                "refused: the live state changed since {} was saved:",
                args.plan.display()
            );
            for c in &changes {
                eprintln!("  - {c}");
            }
            eprintln!("run decom plan again and review the new preview");
            return Ok(exit::REFUSED);
        }
    }
    // 6. Selectors that matched nothing, protect rules, blockers and blast radius.
    let counts = graph.counts();
    if let Some(e) = matched_nothing_error(&graph) {
        eprint!("{}", crate::render::human(&graph, false));
        eprintln!("error: {e}; nothing done");
        return Ok(exit::ERROR);
    }
    if graph.refuses_blocked() {
        eprint!("{}", crate::render::human(&graph, false));
        let code = if graph.blocked_by_protection() {
            exit::REFUSED
        } else {
            exit::ERROR
        };
        eprintln!(
            "refused: {} resource(s) cannot be removed (see above); nothing done (policy.on_blocked: skip would remove the rest)",
            counts.blocked
        );
        return Ok(code);
    }
    if graph.over_blast_radius() {
        eprintln!(
            "refused: {} deletions exceed policy.max_deletions {}; nothing done",
            counts.deletions,
            graph.max_deletions.unwrap_or(0)
        );
        return Ok(exit::REFUSED);
    }
    if graph.steps.is_empty() && counts.blocked > 0 {
        eprint!("{}", crate::render::human(&graph, false));
        eprintln!(
            "partial teardown: nothing removable; {} blocked resource(s) left in place (see above)",
            counts.blocked
        );
        return Ok(exit::PARTIAL);
    }
    if graph.steps.is_empty() {
        let gone = counts.already_gone;
        eprintln!("nothing to do: {gone} target(s) already gone");
        if args.output == OutputFormat::Json {
            let empty = serde_json::json!({"format_version": 1, "complete": true, "steps": []});
            crate::progress::emit(
                &crate::progress::events::report(empty, exit::SUCCESS).to_string(),
            );
            *reported = true;
        }
        return Ok(exit::SUCCESS);
    }
    // Overlapping plans: hold the lock of every (account, region) this run mutates, so a
    // second plan touching the same scope from this state directory is refused until this
    // one ends (their ClientTokens agree too where that is safe: see graph::client_token).
    // A rehearsal's scope locks are its own: it never holds (or waits for) the real account's.
    let scope = if rehearsal.is_some() {
        format!("rehearsal-{}", identity.account_id)
    } else {
        identity.account_id.clone()
    };
    let _scope_locks = scope_locks(&args.state_dir, &scope, &graph, &plan.name)?;
    // 7. Show what will happen, then confirm.
    if args.output != OutputFormat::Json {
        use std::io::Write as _;
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            crate::render::human(&graph, color).trim_end()
        );
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("refused: no TTY to confirm on; review with `decom plan` and pass --yes");
            return Ok(exit::REFUSED);
        }
        let prompt = format!(
            "{} {} change(s) ({} deletion(s), {} step(s)) in account {}{}?",
            if rehearsal.is_some() {
                "Rehearse"
            } else {
                "Apply"
            },
            counts.changes,
            counts.deletions,
            counts.steps,
            identity.account_id,
            global
                .emulator
                .as_ref()
                .map(|w| format!(" of the emulator world {}", w.display()))
                .unwrap_or_default()
        );
        if !confirm(&prompt).await {
            eprintln!("cancelled; nothing done");
            return Ok(exit::REFUSED);
        }
    }
    // The window may have closed while the preview was read.
    if let Some(w) = &plan.window
        && jiff::Timestamp::now() > w.not_after
    {
        eprintln!(
            "not due: the plan's window closed at {} before the run could start; nothing done",
            w.not_after
        );
        return Ok(exit::NOT_DUE);
    }
    // 8. Execute, with Ctrl-C: first stops scheduling, second exits at once.
    let opts = crate::exec::Options {
        parallelism: args.parallelism as usize,
        fail_fast: args.fail_fast,
        poll_initial: args.poll_interval,
        poll_max: args.max_interval.max(args.poll_interval),
        retry_initial: args.poll_interval,
        retry_max: args.max_interval.max(args.poll_interval),
        step_timeout: args.step_timeout,
        rate_scale: args.rate_scale,
        rate_overrides: Default::default(),
        window_end: plan.window.map(|w| {
            let left = jiff::Timestamp::now().duration_until(w.not_after);
            tokio::time::Instant::now() + left.try_into().unwrap_or_default()
        }),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let interrupt = shutdown_signal()?;
    let stopper = tokio::spawn(async move {
        interrupt.await;
        let _ = stop_tx.send(true);
        // A second signal: exit at once (every journal line is already flushed).
        if let Ok(second) = shutdown_signal() {
            second.await;
            eprintln!("\ninterrupted twice: exiting now; rerun decom apply to resume");
            std::process::exit(i32::from(exit::PARTIAL));
        }
    });
    let mode = match args.output {
        OutputFormat::Json => crate::progress::Mode::Json,
        _ if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() => {
            crate::progress::Mode::Bars
        }
        _ => crate::progress::Mode::Lines,
    };
    // What each selector matched, before any change: a later run tells "removed by this
    // plan" from "matched nothing" by it.
    for res in &inventory.resolutions {
        let t = &plan.targets[res.target];
        if matches!(t.selector, crate::plan::Selector::Match(_)) && !res.found.is_empty() {
            journal.resolved(
                &t.describe(),
                res.found.iter().map(|(_, id)| id.clone()).collect(),
            );
        }
    }
    // For `decom status`: what this run talks to, then every new state a step sees (tapped
    // from the progress events into the append-only `states.jsonl`).
    journal.write(&crate::exec::journal::Record::Run {
        time: crate::exec::journal::now(),
        plan: plan.name.clone(),
        account: identity.account_id.clone(),
        endpoint: endpoint_label(global),
        rehearsal: rehearsal.is_some(),
    });
    let (ev_tx, mut tap_rx) = tokio::sync::mpsc::unbounded_channel();
    let (fwd_tx, ev_rx) = tokio::sync::mpsc::unbounded_channel();
    // Beside the journal, not in it: the tap lags the executor, whose `end` record stays last.
    let tap_path = journal.path().with_file_name("states.jsonl");
    let tapped: Vec<_> = graph
        .steps
        .iter()
        .map(|s| (s.kind, s.resource.clone(), s.action))
        .collect();
    let tap = tokio::spawn(async move {
        while let Some(ev) = tap_rx.recv().await {
            if let crate::exec::Event::Progress { step, state, .. } = &ev
                && let Some((kind, resource, action)) = tapped.get(*step)
            {
                let rec = crate::exec::journal::Record::State {
                    time: crate::exec::journal::now(),
                    kind: *kind,
                    resource: resource.clone(),
                    action: *action,
                    state: state.clone(),
                };
                let _ = crate::exec::journal::append(&tap_path, &rec);
            }
            if fwd_tx.send(ev).is_err() {
                break;
            }
        }
    });
    let reporter = tokio::spawn(crate::progress::consume(ev_rx, graph.clone(), mode));
    let report = crate::exec::run(
        client.clone(),
        &graph,
        opts,
        &history,
        Some(&mut journal),
        ev_tx,
        stop_rx,
    )
    .await;
    let _ = tap.await;
    let _ = reporter.await;
    stopper.abort();
    drop(journal);
    // Partial teardown (`policy.on_blocked: skip`) leaves blocked resources: exit 3 even
    // when every step succeeded.
    let code = if report.complete() && counts.blocked == 0 {
        exit::SUCCESS
    } else {
        exit::PARTIAL
    };
    match args.output {
        OutputFormat::Json => {
            let mut v =
                crate::progress::events::report(crate::progress::report_json(&report), code);
            if rehearsal.is_some() {
                v["rehearsal"] = serde_json::json!(true);
            }
            crate::progress::emit_json_line(&v)?;
            *reported = true;
        }
        OutputFormat::Markdown => {
            let mut text = crate::progress::report_markdown_titled(
                &report,
                &format!(
                    "decom apply{}: {} (account {})",
                    if rehearsal.is_some() {
                        " REHEARSAL"
                    } else {
                        ""
                    },
                    plan.name,
                    identity.account_id
                ),
            );
            if let Some(r) = &rehearsal {
                // Under the title: the first thing a reader of the comment sees.
                if let Some(i) = text.find("\n\n") {
                    text.insert_str(i + 2, &format!("> **{r}**\n\n"));
                }
            }
            crate::progress::emit(&text);
        }
        OutputFormat::Human => {
            let mut text = crate::progress::report_human(&report);
            if let Some(r) = &rehearsal {
                text = format!("{r}\n{text}");
            }
            crate::progress::emit(&text);
        }
    }
    let calls: u64 =
        client.call_counts().values().sum::<u64>() + reader.call_counts().values().sum::<u64>();
    tracing::info!(calls, "API calls");
    if counts.blocked > 0 {
        let blocked: Vec<String> = graph
            .entries
            .iter()
            .filter_map(|e| match &e.disposition {
                crate::graph::Disposition::Blocked { why } => {
                    Some(format!("  - {} {}: {why}", e.kind, e.id))
                }
                _ => None,
            })
            .collect();
        eprintln!(
            "partial teardown (policy.on_blocked: skip): {} resource(s) left in place:\n{}",
            counts.blocked,
            blocked.join("\n")
        );
    }
    if code != exit::SUCCESS {
        let again = cmdline::current();
        if report.window_closed {
            let not_started = report
                .steps
                .iter()
                .filter(|s| s.outcome == crate::exec::Outcome::NotStarted)
                .count();
            eprintln!(
                "window closed at {}: {not_started} step(s) not started; move the plan's window and rerun `{again}` to finish (it re-discovers what is done)",
                plan.window
                    .map(|w| w.not_after.to_string())
                    .unwrap_or_default()
            );
        } else if report.interrupted {
            eprintln!(
                "interrupted: rerun `{again}` to resume (same ClientTokens, nothing is repeated)"
            );
        } else if report
            .steps
            .iter()
            .any(|s| matches!(s.outcome, crate::exec::Outcome::TimedOut { .. }))
        {
            eprintln!(
                "timed out: rerun `{again}` to go on waiting (finished steps are not repeated)"
            );
        }
    }
    Ok(code)
}

/// Hand the memory discovery freed (its answers, decoded on every runtime thread) back to the
/// system before the graph is built, so the two phases' peaks do not add up (glibc keeps freed
/// pages in per-thread arenas otherwise).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod value_tests {
    use super::{parse_positive_duration, parse_scale};

    #[test]
    fn rate_scales_and_step_timeouts_are_checked() {
        assert_eq!(parse_scale("2.5"), Ok(2.5));
        for bad in ["0", "-1", "nan", "inf", "x"] {
            assert!(parse_scale(bad).is_err(), "{bad}");
        }
        assert!(parse_positive_duration("0s").is_err());
        assert_eq!(
            parse_positive_duration("90s"),
            Ok(std::time::Duration::from_secs(90))
        );
    }
}
