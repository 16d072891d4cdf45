//! Shape a running devnet (`scripts/devnet`, or the one `scripts/run`
//! starts) into the devnet programme of `config/devnet.toml` (see
//! `testkit::programme`). Run it through `scripts/devnet-programme`.

use testkit::Devnet;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9944".into());
    let devnet = Devnet::attach(&url).await?;
    println!("devnet-programme: shaping {url}");
    let era = testkit::programme::shape(&devnet, |step| println!("  {step}")).await?;
    println!("devnet-programme: era {era} started with the candidates validating; a round follows, then the nominations");
    Ok(())
}
