//! A small client of the management API for the CLI's remote commands.

use anyhow::{Context, bail};
use hookflow_api::ErrorBody;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where the engine is and how to authenticate, shared by every remote command.
#[derive(Debug, Clone, clap::Args)]
pub struct Remote {
    /// Base URL of a running engine.
    #[arg(long, env = "HOOKFLOW_SERVER", default_value = "http://127.0.0.1:7071")]
    pub server: String,
    /// Bearer token of the management API.
    #[arg(long, env = "HOOKFLOW_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl Remote {
    /// Sends a request and decodes a JSON answer; an error answer becomes an error naming the
    /// code, the message and every problem.
    pub fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, T)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()?;
            let url = format!("{}{}", self.server.trim_end_matches('/'), path);
            let mut request = client.request(method, &url);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(body)?);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("calling {url}"))?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await?;
            if status >= 400 {
                match serde_json::from_slice::<ErrorBody>(&bytes) {
                    Ok(error) => {
                        let mut message =
                            format!("{} ({status}): {}", error.error.code, error.error.message);
                        for problem in error.error.details {
                            message.push_str(&format!("\n  {}: {}", problem.path, problem.message));
                        }
                        bail!(message)
                    }
                    Err(_) => bail!(
                        "{url} answered {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    ),
                }
            }
            let value = serde_json::from_slice(&bytes)
                .with_context(|| format!("reading the answer of {url}"))?;
            Ok((status, value))
        })
    }
}
