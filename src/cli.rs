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

/// decom: declarative teardown of Alibaba Cloud networking (Express Connect circuits, VBRs,
/// transit-router attachments, IPsec-VPN connections).
#[derive(Debug, Parser)]
#[command(name = "decom", version, about, after_help = exit::TABLE)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Connection and credential flags shared by every command that talks to the API.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Send every product's requests to this endpoint (e.g. an emulator on loopback).
    /// Plain http:// is accepted only for loopback hosts.
    #[arg(long, global = true, env = "DECOM_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// Default region for requests that need one.
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_REGION_ID",
        value_name = "REGION"
    )]
    pub region: Option<String>,
    /// Signature algorithm: v3 (ACS3-HMAC-SHA256, default) or v1 (HMAC-SHA1).
    #[arg(
        long,
        global = true,
        env = "DECOM_SIGNATURE",
        default_value = "v3",
        value_name = "v1|v3"
    )]
    pub signature: SignatureVersion,
    /// AccessKeyId (overrides the environment and credential files).
    #[arg(long, global = true, value_name = "ID")]
    pub access_key_id: Option<String>,
    /// AccessKeySecret (prefer ALIBABA_CLOUD_ACCESS_KEY_SECRET: flags show up in `ps`).
    #[arg(long, global = true, value_name = "SECRET", hide_env_values = true)]
    pub access_key_secret: Option<String>,
    /// STS security token for temporary credentials.
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub security_token: Option<String>,
    /// Run against an embedded emulator seeded from this world file (no cloud account).
    #[arg(long, global = true, value_name = "WORLD", conflicts_with = "endpoint")]
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
    /// The step graph of a plan, as DOT or Mermaid.
    Graph(GraphArgs),
    /// Send one signed API request and print the JSON answer (like the aliyun CLI).
    Api(ApiArgs),
    /// The local Alibaba Cloud emulator.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
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
    /// The versioned JSON document (format_version 1).
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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
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
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DECOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .try_init();
}

/// Run a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Validate { plan } => validate_command(&plan),
        Command::Plan(args) => plan_command(&cli.global, args).await,
        Command::Graph(args) => graph_command(&cli.global, args).await,
        Command::Api(args) => api_command(&cli.global, args).await,
        Command::Emulator(EmulatorCommand::Serve(args)) => serve_command(args).await,
        Command::Emulator(EmulatorCommand::Check { world }) => {
            let emulator = Emulator::load(&world)?;
            let count = emulator.with_state(|s| s.resource_count());
            println!(
                "{}: ok, account {}, {count} resources",
                world.display(),
                emulator.account_id()
            );
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
            retry: RetryPolicy::default(),
        };
        return Ok((config, emulator.transport()));
    }
    let config = ClientConfig {
        endpoints: resolve_endpoints(global)?,
        credentials: resolve_credentials(global)?,
        signature: global.signature,
        retry: RetryPolicy::default(),
    };
    let transport = api::http::HttpTransport::new(api::http::HttpOptions::default())?;
    Ok((config, Arc::new(transport)))
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
    println!("{}", serde_json::to_string_pretty(&value)?);
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
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{banner}")?;
        out.flush()?;
    }
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
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
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
    println!(
        "{}: ok: plan {:?}, {} target(s), cascade {}",
        path.display(),
        plan.name,
        plan.targets.len(),
        if plan.policy.cascade { "on" } else { "off" }
    );
    Ok(exit::SUCCESS)
}

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
pub async fn preview(global: &GlobalArgs, path: &std::path::Path) -> anyhow::Result<(crate::plan::Plan, crate::discover::Inventory, crate::graph::Graph)> {
    let plan = load_plan(path)?;
    let client = read_client(global)?;
    let inventory = crate::discover::discover(&client, &plan).await?;
    let graph = crate::graph::build(&plan, &inventory)?;
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
    println!("{}", text.trim_end());
    if let Some(out) = &args.out {
        let saved = SavedPlan {
            format_version: 1,
            saved_at: jiff::Timestamp::now().to_string(),
            plan_file: args.plan.display().to_string(),
            account: plan.account.clone().or(inventory.account.clone()),
            graph: graph.clone(),
        };
        std::fs::write(out, serde_json::to_string_pretty(&saved)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("saved the plan to {} (apply it with: decom apply {})", out.display(), out.display());
    }
    if let (Some(want), Some(have)) = (&plan.account, &inventory.account) {
        if want != have {
            eprintln!("refused: the plan is for account {want}, but these credentials belong to account {have}");
            return Ok(exit::REFUSED);
        }
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
        return Ok(if graph.blocked_by_protection() { exit::REFUSED } else { exit::ERROR });
    }
    Ok(if args.detailed_exitcode && destroy > 0 { exit::CHANGES_PENDING } else { exit::SUCCESS })
}

async fn graph_command(global: &GlobalArgs, args: GraphArgs) -> anyhow::Result<u8> {
    let (_, _, graph) = preview(global, &args.plan).await?;
    let text = match args.format {
        GraphFormat::Dot => crate::render::dot(&graph),
        GraphFormat::Mermaid => crate::render::mermaid(&graph),
    };
    println!("{}", text.trim_end());
    Ok(exit::SUCCESS)
}
