//! The per-process peer for Rust: what a Rust tool does with aws-config's IMDS credentials
//! provider to print the same `credential_process` JSON as `imds credentials`. The endpoint comes
//! from `AWS_EC2_METADATA_SERVICE_ENDPOINT` and is also set in code, so it never goes elsewhere.

use aws_config::imds;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let endpoint = std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_default();
    if !endpoint.starts_with("http://127.0.0.1:") && !endpoint.starts_with("http://[::1]:") {
        eprintln!(
            "aws-config-credentials: AWS_EC2_METADATA_SERVICE_ENDPOINT must be a loopback URL"
        );
        return std::process::ExitCode::from(2);
    }
    let client = match imds::Client::builder().endpoint(&endpoint) {
        Ok(builder) => builder.build(),
        Err(e) => {
            eprintln!("aws-config-credentials: {e}");
            return std::process::ExitCode::from(2);
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
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aws-config-credentials: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
