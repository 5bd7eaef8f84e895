use clap::Parser;
use tete_api::Config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tete_api::serve(Config::parse(), |addr| {
        tracing::info!(%addr, "tete is serving: GraphiQL at /, API at /graphql");
    })
    .await
}
