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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one signed API request and print the JSON answer (like the aliyun CLI).
    Api(ApiArgs),
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

/// A client over HTTPS (or loopback HTTP) from the global flags.
pub fn http_client(global: &GlobalArgs) -> anyhow::Result<WriteClient> {
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
