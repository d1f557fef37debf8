//! Command-line interface: clap definitions, parse-then-validate into library calls, and the
//! mapping of every outcome to an exit code from [`crate::exit`].

use std::collections::BTreeMap;
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
    /// How long a read keeps retrying throttling and transient errors (e.g. 90s, 5m).
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
    /// Deadline of every step, overriding the per-kind defaults (e.g. 90s, 20m).
    #[arg(long, value_parser = parse_duration)]
    pub step_timeout: Option<std::time::Duration>,
    /// First poll of a wait after its call (e.g. 2s; shorter against the emulator).
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub poll_interval: std::time::Duration,
    /// Longest interval between polls / retries.
    #[arg(long, value_parser = parse_duration, default_value = "20s")]
    pub max_interval: std::time::Duration,
    /// Multiply the documented API quotas (a rehearsal against a scaled emulator).
    #[arg(long, default_value_t = 1.0)]
    pub rate_scale: f64,
    /// Output: human (progress on stderr, report on stdout), json (JSON lines on stdout: one
    /// event per line, the report or the exit code last), markdown (the report).
    #[arg(long, short, value_enum, default_value = "human")]
    pub output: OutputFormat,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::emulator::world::Dur::parse(s).map(|d| d.0)
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
const NOT_CONNECTING: [&str; 3] = ["validate", "emulator", "completions"];

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

/// Credentials from the flags and the normal chain.
pub fn resolve_credentials(global: &GlobalArgs) -> anyhow::Result<api::Credentials> {
    let explicit = ExplicitCredentials {
        access_key_id: global.access_key_id.clone(),
        access_key_secret: global.access_key_secret.clone().map(Secret::new),
        security_token: global.security_token.clone().map(Secret::new),
    };
    Ok(credentials::resolve(&ChainInputs::from_process(explicit))?)
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
            credentials: emulator.credentials(),
            signature: global.signature,
            retry: retry_policy(global),
        };
        return Ok((config, emulator.transport()));
    }
    let config = ClientConfig {
        endpoints: resolve_endpoints(global)?,
        credentials: resolve_credentials(global)?,
        signature: global.signature,
        retry: retry_policy(global),
    };
    let transport = api::http::HttpTransport::new(api::http::HttpOptions {
        ca_bundle: global.ca_bundle.clone(),
        ..Default::default()
    })?;
    Ok((config, Arc::new(transport)))
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
    Ok(exit::SUCCESS)
}

/// The saved-plan format this build writes and reads.
pub const SAVED_PLAN_VERSION: u64 = 1;

/// A saved plan (`decom plan --out FILE`): what `apply` executes exactly.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SavedPlan {
    /// Saved-plan format version.
    pub format_version: u32,
    /// When it was saved (RFC 3339).
    pub saved_at: String,
    /// The plan file it came from.
    pub plan_file: String,
    /// The account the plan is for (from the plan, else the caller's).
    pub account: Option<String>,
    /// The graph, with ClientTokens and the state fingerprint each step relied on.
    pub graph: crate::graph::Graph,
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

async fn plan_command(global: &GlobalArgs, args: PlanArgs) -> anyhow::Result<u8> {
    let (plan, inventory, graph) = preview(global, &args.plan).await?;
    let text = match args.output {
        OutputFormat::Human => crate::render::human(&graph, use_color()),
        OutputFormat::Json => serde_json::to_string_pretty(&crate::render::json(&graph))?,
        OutputFormat::Markdown => crate::render::markdown(&graph),
    };
    crate::progress::emit(&text);
    if let Some(out) = &args.out {
        let saved = SavedPlan {
            format_version: SAVED_PLAN_VERSION as u32,
            saved_at: jiff::Timestamp::now().to_string(),
            plan_file: args.plan.display().to_string(),
            account: plan.account.clone().or(inventory.account.clone()),
            graph: graph.clone(),
        };
        std::fs::write(out, serde_json::to_string_pretty(&saved)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!(
            "saved the plan to {} (apply it with: decom apply {})",
            out.display(),
            out.display()
        );
    }
    if let (Some(want), Some(have)) = (&plan.account, &inventory.account)
        && want != have
    {
        eprintln!(
            "refused: the plan is for account {want}, but these credentials belong to account {have}"
        );
        return Ok(exit::REFUSED);
    }
    let (destroy, _, blocked) = graph.summary();
    if graph.over_blast_radius() {
        eprintln!(
            "refused: {} deletions exceed policy.max_deletions {}",
            graph.deletions,
            graph.max_deletions.unwrap_or(0)
        );
        return Ok(exit::REFUSED);
    }
    if blocked > 0 {
        eprintln!("error: {blocked} resource(s) cannot be removed; see the blocked section above");
        return Ok(if graph.blocked_by_protection() {
            exit::REFUSED
        } else {
            exit::ERROR
        });
    }
    Ok(if args.detailed_exitcode && destroy > 0 {
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

/// A plan argument: a plan file, or a saved plan (JSON with a `graph`).
fn load_plan_or_saved(
    path: &std::path::Path,
) -> anyhow::Result<(crate::plan::Plan, Option<SavedPlan>)> {
    let text =
        crate::input::read_text(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.trim_start().starts_with('{') {
        let not_saved = || format!("{} is not a saved plan (decom plan --out)", path.display());
        let value: serde_json::Value = serde_json::from_str(&text).with_context(not_saved)?;
        match value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(SAVED_PLAN_VERSION) => {}
            Some(v) => bail!(
                "{} is a saved plan of format_version {v}; this decom reads format_version {SAVED_PLAN_VERSION}: plan again with this version",
                path.display()
            ),
            None => bail!("{}: no format_version", not_saved()),
        }
        let saved: SavedPlan = serde_json::from_value(value).with_context(not_saved)?;
        let plan = load_plan(std::path::Path::new(&saved.plan_file))?;
        if plan.fingerprint != saved.graph.plan_fingerprint {
            bail!(
                "{} was saved from a different version of {}: plan again",
                path.display(),
                saved.plan_file
            );
        }
        return Ok((plan, Some(saved)));
    }
    Ok((load_plan(path)?, None))
}

/// What changed between a saved plan and the live state: steps that appeared, and steps
/// whose resource changed (by state fingerprint). Steps the journal says finished are fine.
fn staleness(
    saved: &crate::graph::Graph,
    live: &crate::graph::Graph,
    history: &crate::exec::journal::History,
) -> Vec<String> {
    let saved_steps: BTreeMap<
        (crate::model::Kind, String, crate::model::Action),
        &crate::graph::Step,
    > = saved
        .steps
        .iter()
        .map(|s| ((s.kind, s.resource.clone(), s.action), s))
        .collect();
    let mut changes = Vec::new();
    for s in &live.steps {
        let key = (s.kind, s.resource.clone(), s.action);
        match saved_steps.get(&key) {
            None if !history.outcomes.contains_key(&key) => {
                changes.push(format!("new step: {} {} {}", s.action, s.kind, s.resource));
            }
            Some(old) if old.state != s.state && !history.outcomes.contains_key(&key) => {
                changes.push(format!(
                    "{} {} changed since the plan was saved",
                    s.kind, s.resource
                ));
            }
            _ => {}
        }
    }
    let live_steps: std::collections::BTreeSet<(crate::model::Kind, String, crate::model::Action)> =
        live.steps
            .iter()
            .map(|s| (s.kind, s.resource.clone(), s.action))
            .collect();
    for (key, s) in &saved_steps {
        if !live_steps.contains(key) && !history.outcomes.contains_key(key) {
            changes.push(format!(
                "{} {} {}: no longer needed or possible (the resource is gone or changed since the plan was saved)",
                s.action, s.kind, s.resource
            ));
        }
    }
    changes.dedup();
    changes
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

fn confirm(prompt: &str) -> bool {
    use std::io::BufRead as _;
    eprint!("{prompt} Type 'yes' to continue: ");
    let _ = std::io::Write::flush(&mut std::io::stderr());
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && line.trim() == "yes"
}

/// `decom apply`. With `--output json` the last stdout line is always the `report`, or an
/// `exit` event (refused, not due, error) with the exit code: see [`crate::progress::events`].
async fn apply_command(global: &GlobalArgs, args: ApplyArgs) -> anyhow::Result<u8> {
    let json = args.output == OutputFormat::Json;
    let mut reported = false;
    let result = apply_run(global, args, &mut reported).await;
    if json && !reported {
        let line = match &result {
            Ok(code) => crate::progress::events::exit(*code, None),
            Err(e) => crate::progress::events::exit(exit::ERROR, Some(&error_chain(e))),
        };
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
    let dir =
        crate::exec::journal::Journal::dir_for(&args.state_dir, &plan.name, &plan.fingerprint);
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
    let graph = crate::graph::build(&plan, &inventory)?;
    // 5. Saved-plan staleness.
    if let Some(saved) = &saved {
        let changes = staleness(&saved.graph, &graph, &history);
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
    // 6. Protect rules, blockers and blast radius.
    let (_, gone, blocked) = graph.summary();
    if blocked > 0 {
        eprint!("{}", crate::render::human(&graph, false));
        let code = if graph.blocked_by_protection() {
            exit::REFUSED
        } else {
            exit::ERROR
        };
        eprintln!("refused: {blocked} resource(s) cannot be removed (see above); nothing done");
        return Ok(code);
    }
    if graph.over_blast_radius() {
        eprintln!(
            "refused: {} deletions exceed policy.max_deletions {}; nothing done",
            graph.deletions,
            graph.max_deletions.unwrap_or(0)
        );
        return Ok(exit::REFUSED);
    }
    if graph.steps.is_empty() {
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
    let _scope_locks = scope_locks(&args.state_dir, &identity.account_id, &graph, &plan.name)?;
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
            "Apply {} step(s), deleting {} resource(s), in account {}?",
            graph.steps.len(),
            graph.deletions,
            identity.account_id
        );
        if !confirm(&prompt) {
            eprintln!("cancelled; nothing done");
            return Ok(exit::REFUSED);
        }
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
    let (ev_tx, ev_rx) = tokio::sync::mpsc::unbounded_channel();
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
    let _ = reporter.await;
    stopper.abort();
    drop(journal);
    let code = if report.complete() {
        exit::SUCCESS
    } else {
        exit::PARTIAL
    };
    match args.output {
        OutputFormat::Json => {
            let v = crate::progress::events::report(crate::progress::report_json(&report), code);
            crate::progress::emit(&v.to_string());
            *reported = true;
        }
        OutputFormat::Markdown => crate::progress::emit(&crate::progress::report_markdown_titled(
            &report,
            &format!(
                "decom apply: {} (account {})",
                plan.name, identity.account_id
            ),
        )),
        OutputFormat::Human => crate::progress::emit(&crate::progress::report_human(&report)),
    }
    let calls: u64 =
        client.call_counts().values().sum::<u64>() + reader.call_counts().values().sum::<u64>();
    tracing::info!(calls, "API calls");
    if code != exit::SUCCESS {
        let again = cmdline::current();
        if report.interrupted {
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
