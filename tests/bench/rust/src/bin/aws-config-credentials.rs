//! The per-process peer for Rust: what a Rust tool does with aws-config's IMDS credentials
//! provider to print the same `credential_process` JSON as `imds credentials`. The endpoint comes
//! from `AWS_EC2_METADATA_SERVICE_ENDPOINT` and is also set in code, so it never goes elsewhere.
//!
//! Under `make bench-fleet` (`FLEET_*` set) it waits at the fleet barrier once the runtime is up,
//! before it builds the client, and reports when it finished (src/fleet.rs).

#[path = "../fleet.rs"]
mod fleet;

use aws_config::imds;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let released = fleet::wait_at_barrier();
    let status = print_credentials().await;
    if let Some(released) = released {
        released.done(status);
    }
    std::process::ExitCode::from(status)
}

/// Prints the credentials; the exit status.
async fn print_credentials() -> u8 {
    let endpoint = std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_default();
    if !endpoint.starts_with("http://127.0.0.1:") && !endpoint.starts_with("http://[::1]:") {
        eprintln!(
            "aws-config-credentials: AWS_EC2_METADATA_SERVICE_ENDPOINT must be a loopback URL"
        );
        return 2;
    }
    let client = match imds::Client::builder().endpoint(&endpoint) {
        Ok(builder) => builder.build(),
        Err(e) => {
            eprintln!("aws-config-credentials: {e}");
            return 2;
        }
    };
    let provider = ImdsCredentialsProvider::builder()
        .imds_client(client)
        .build();
    match provider.provide_credentials().await {
        Ok(c) => {
            let expiration = c
                .expiry()
                .and_then(|t| DateTime::from(t).fmt(Format::DateTime).ok())
                .unwrap_or_default();
            println!(
                "{{\"Version\":1,\"AccessKeyId\":\"{}\",\"SecretAccessKey\":\"{}\",\"SessionToken\":\"{}\",\"Expiration\":\"{}\"}}",
                c.access_key_id(),
                c.secret_access_key(),
                c.session_token().unwrap_or_default(),
                expiration
            );
            0
        }
        Err(e) => {
            eprintln!("aws-config-credentials: {e}");
            1
        }
    }
}
