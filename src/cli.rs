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

/// A client from the global flags: the embedded emulator with `--emulator WORLD` (its own
/// credentials), else HTTPS (or loopback HTTP) with the normal credential chain.
pub fn http_client(global: &GlobalArgs) -> anyhow::Result<WriteClient> {
    if let Some(world) = &global.emulator {
        let emulator = Emulator::load(world)?;
        let config = ClientConfig {
            endpoints: Endpoints::parse_override("http://127.0.0.1")?,
            credentials: emulator.credentials(),
            signature: global.signature,
            retry: RetryPolicy::default(),
        };
        return Ok(WriteClient::new(config, emulator.transport()));
    }
    let config = ClientConfig {
        endpoints: resolve_endpoints(global)?,
        credentials: resolve_credentials(global)?,
        signature: global.signature,
        retry: RetryPolicy::default(),
    };
    let transport = api::http::HttpTransport::new(api::http::HttpOptions::default())?;
    Ok(WriteClient::new(config, Arc::new(transport)))
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
    let client = http_client(global)?;
    let value = if mutating {
        client.call(&req).await?
    } else {
        let reader: ReadClient = client.reader();
        reader.call(&req).await?
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
    let creds = emulator.credentials();
    let banner = serde_json::json!({
        "endpoint": format!("http://{addr}"),
        "access_key_id": creds.access_key_id,
        "access_key_secret": creds.access_key_secret.expose(),
        "account_id": emulator.account_id(),
    });
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
    crate::emulator::server::serve(emulator, listener, shutdown_signal()).await?;
    Ok(exit::SUCCESS)
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
