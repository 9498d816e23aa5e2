//! Runner for aws-config's IMDS credentials provider (`imds::credentials::ImdsCredentialsProvider`)
//! with an IMDS client whose endpoint is set in code to the mock.
//! Cold: a new IMDS client and provider per fetch. Warm: one long-lived provider (its IMDS client
//! caches the token; the provider asks for the role each time, as aws-config does).

#[path = "../protocol.rs"]
mod protocol;

use aws_config::imds;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_credential_types::provider::ProvideCredentials;

struct AwsConfig {
    endpoint: String,
    runtime: tokio::runtime::Runtime,
    long_lived: ImdsCredentialsProvider,
}

fn provider(endpoint: &str) -> Result<ImdsCredentialsProvider, String> {
    let client = imds::Client::builder()
        .endpoint(endpoint)
        .map_err(|e| e.to_string())?
        .build();
    Ok(ImdsCredentialsProvider::builder()
        .imds_client(client)
        .build())
}

impl AwsConfig {
    fn fetch(&self, provider: &ImdsCredentialsProvider) -> Result<String, String> {
        let credentials = self
            .runtime
            .block_on(provider.provide_credentials())
            .map_err(|e| format!("{e}"))?;
        Ok(credentials.access_key_id().to_string())
    }
}

impl protocol::Contender for AwsConfig {
    fn cold(&mut self) -> Result<String, String> {
        let fresh = provider(&self.endpoint)?;
        self.fetch(&fresh)
    }

    fn warm(&mut self) -> Result<String, String> {
        self.fetch(&self.long_lived)
    }
}

fn main() {
    let endpoint = protocol::endpoint_argument();
    // One current-thread runtime for every fetch, cold or warm, as a small tool would have.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("runner-aws-config: {e}");
            std::process::exit(2);
        });
    let long_lived = provider(&endpoint).unwrap_or_else(|e| {
        eprintln!("runner-aws-config: {e}");
        std::process::exit(2);
    });
    protocol::serve(&mut AwsConfig {
        endpoint,
        runtime,
        long_lived,
    });
}
