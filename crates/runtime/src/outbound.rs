//! The one outbound HTTP client. Every call — Http actions, their async-pattern polls, webhook
//! subscribe and unsubscribe — goes through [`Outbound::send`], which:
//!
//! - resolves authentication the engine left as data ([`OutboundAuth`]): a client
//!   certificate picks (or builds, then caches) a client with that TLS identity; OAuth and
//!   managed identity fetch (or reuse) a token and send it as `Authorization: Bearer`;
//! - signs the request as sent when it asks for it (`OutboundSigning`: Standard Webhooks);
//! - applies the egress policy (see `egress`), on the resolved address;
//! - bounds the call: a connect timeout, a total timeout (`limit.timeout` or the engine's
//!   default) and a response size cap, reading streamed and chunked bodies piece by piece;
//! - follows no redirects: the workflow sees the `3xx` (logicapps-spec does not say the Http
//!   action follows them, and following one would send the request, credentials included, to
//!   a destination the definition never named);
//! - turns the result into an [`HttpOutcome`] the engine understands, with a stable error
//!   code when there is no response.

use crate::{
    Clock, Error, Result, client_assertion,
    credentials::{self, Failure, TokenCache},
    egress::{EGRESS_DENIED, EgressDenied, EgressPolicy, FilteringResolver},
    standard_webhooks::SigningKey,
    triggers::body_value,
};
use base64::Engine as _;
use hookflow_engine::{Effect, HttpOutcome, HttpRequest, OutboundAuth, OutboundSigning};
use serde_json::{Map, Value};
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

/// Settings of the outbound client (part of [`crate::Options`]).
#[derive(Debug, Clone)]
pub struct OutboundOptions {
    /// Time allowed to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Which destinations calls may reach.
    pub egress: EgressPolicy,
    /// PEM files of CA certificates trusted besides the system's (a private CA, a test CA).
    pub extra_ca_certs: Vec<PathBuf>,
    /// Authority of ActiveDirectoryOAuth when a definition names none.
    pub oauth_authority: String,
    /// A managed identity token endpoint (IMDS style); `None`: ManagedServiceIdentity is
    /// refused at save time.
    pub msi_token_url: Option<String>,
    /// Wait between polls of an asynchronous operation whose `202` has no `Retry-After`.
    pub async_poll_interval: Duration,
    /// The shortest wait between polls, whatever `Retry-After` says.
    pub async_poll_min_interval: Duration,
}

impl OutboundOptions {
    /// Logic Apps' behaviour: every destination allowed, polls every 20 s (logicapps-spec
    /// §6.1), the Entra ID authority, no managed identity.
    pub fn standard() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            egress: EgressPolicy::default(),
            extra_ca_certs: Vec::new(),
            oauth_authority: credentials::DEFAULT_AUTHORITY.into(),
            msi_token_url: None,
            async_poll_interval: Duration::from_secs(20),
            async_poll_min_interval: Duration::from_secs(1),
        }
    }
}

/// The outbound client with its caches (clients per client certificate, tokens).
pub(crate) struct Outbound {
    options: OutboundOptions,
    max_response_bytes: usize,
    extra_roots: Vec<reqwest::Certificate>,
    client: reqwest::Client,
    /// Clients with a TLS identity, by a fingerprint of the PFX and its password.
    identities: Mutex<HashMap<Vec<u8>, reqwest::Client>>,
    tokens: TokenCache,
    /// Signature timestamps and client assertions' times.
    clock: Arc<dyn Clock>,
}

/// How many client-certificate clients are kept; past that the cache starts over.
const MAX_IDENTITIES: usize = 64;

impl Outbound {
    pub(crate) fn new(
        options: OutboundOptions,
        max_response_bytes: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let mut extra_roots = Vec::new();
        for path in &options.extra_ca_certs {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Internal(format!("reading CA certificate {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Internal(format!("CA certificate {}: {e}", path.display())))?;
            extra_roots.extend(certs);
        }
        let mut outbound = Self {
            options,
            max_response_bytes,
            extra_roots,
            client: reqwest::Client::new(),
            identities: Mutex::default(),
            tokens: TokenCache::default(),
            clock,
        };
        outbound.client = outbound
            .builder()
            .build()
            .map_err(|e| Error::Internal(format!("building the HTTP client failed: {e}")))?;
        Ok(outbound)
    }

    /// Whether `ManagedServiceIdentity` can be used at all.
    pub(crate) fn has_managed_identity(&self) -> bool {
        self.options.msi_token_url.is_some()
    }

    /// When an effect may be carried out (Unix ms): polls wait, everything else is due now.
    pub(crate) fn due_at(&self, effect: &Effect, now: i64) -> i64 {
        effect
            .not_before(
                self.options.async_poll_interval.as_millis() as u64,
                self.options.async_poll_min_interval.as_millis() as u64,
            )
            .unwrap_or(now)
    }

    /// Makes the call; never fails, a call without a response is an [`HttpOutcome::Error`].
    pub(crate) async fn send(&self, request: &HttpRequest) -> HttpOutcome {
        match self.try_send(request).await {
            Ok(outcome) => outcome,
            Err((code, message)) => HttpOutcome::Error {
                code: code.into(),
                message,
            },
        }
    }

    /// The common shape of every client: timeouts, no redirects, the egress resolver, extra
    /// trusted roots.
    fn builder(&self) -> reqwest::ClientBuilder {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hookflow/", env!("CARGO_PKG_VERSION")));
        if !self.options.egress.allows_all() {
            // A proxy would resolve the destination itself, out of the policy's sight.
            builder = builder.no_proxy().dns_resolver(Arc::new(FilteringResolver {
                policy: Arc::new(self.options.egress.clone()),
            }));
        }
        for root in &self.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        builder
    }

    async fn try_send(&self, request: &HttpRequest) -> Result<HttpOutcome, Failure> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            (
                "InvalidRequest",
                format!("'{}' is not an HTTP method", request.method),
            )
        })?;
        let url = reqwest::Url::parse(&request.uri).map_err(|e| {
            (
                "InvalidRequest",
                format!("'{}' is not a valid URL: {e}", request.uri),
            )
        })?;
        self.options
            .egress
            .check_url(&url)
            .map_err(|denied| (EGRESS_DENIED, denied.to_string()))?;
        let (client, authorization) = self.authenticate(request.auth.as_ref()).await?;
        let mut builder = client.request(method, url);
        if let Some(ms) = request.timeout_ms {
            builder = builder.timeout(Duration::from_millis(ms));
        }
        let has_header = |name: &str| {
            request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        // The signature's own headers replace any the definition wrote.
        let signature_header = |name: &str| {
            request.signing.is_some()
                && ["webhook-id", "webhook-timestamp", "webhook-signature"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h))
        };
        for (name, value) in &request.headers {
            if (authorization.is_some() && name.eq_ignore_ascii_case("authorization"))
                || signature_header(name)
            {
                continue;
            }
            builder = builder.header(name, value);
        }
        if let Some(value) = authorization {
            let mut value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
                (
                    "InvalidRequest",
                    "the access token is not a valid header value".to_owned(),
                )
            })?;
            value.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        if !has_header("idempotency-key") {
            builder = builder.header("Idempotency-Key", &request.idempotency_key);
        }
        let body = match &request.body {
            None => None,
            Some(Value::String(text)) => {
                if !has_header("content-type") {
                    builder = builder.header("Content-Type", "text/plain; charset=utf-8");
                }
                Some(text.clone().into_bytes())
            }
            Some(json) => {
                if !has_header("content-type") {
                    builder = builder.header("Content-Type", "application/json");
                }
                Some(json.to_string().into_bytes())
            }
        };
        if let Some(signing) = &request.signing {
            let body = body.as_deref().unwrap_or_default();
            for (name, value) in self.signature_headers(signing, &request.idempotency_key, body)? {
                builder = builder.header(name, value);
            }
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(describe)?;
        self.read(response).await
    }

    /// The headers that sign `body` as sent: `webhook-id` is the request's idempotency key
    /// (the same on every attempt, so receivers can deduplicate), `webhook-timestamp` this
    /// attempt's time.
    fn signature_headers(
        &self,
        signing: &OutboundSigning,
        id: &str,
        body: &[u8],
    ) -> Result<[(&'static str, reqwest::header::HeaderValue); 3], Failure> {
        let OutboundSigning::StandardWebhooks { secret } = signing;
        let key = SigningKey::parse(secret).map_err(|message| {
            (
                "InvalidRequest",
                format!("inputs.signing.secret: {message}"),
            )
        })?;
        let timestamp = self.clock.now_ms().div_euclid(1000);
        let invalid = |_| {
            (
                "InvalidRequest",
                "the idempotency key is not a valid header value".to_owned(),
            )
        };
        let mut signature = reqwest::header::HeaderValue::from_str(&key.sign(id, timestamp, body))
            .map_err(invalid)?;
        signature.set_sensitive(true);
        Ok([
            (
                "webhook-id",
                reqwest::header::HeaderValue::from_str(id).map_err(invalid)?,
            ),
            ("webhook-timestamp", timestamp.into()),
            ("webhook-signature", signature),
        ])
    }

    /// Status, headers and body, the body read chunk by chunk up to the size limit (a
    /// chunked or streamed response is refused as soon as it grows past it).
    async fn read(&self, mut response: reqwest::Response) -> Result<HttpOutcome, Failure> {
        let status = response.status().as_u16();
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers.insert(canonical_header(name.as_str()), Value::String(value));
        }
        let max_bytes = self.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return Err(too_large(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(too_large(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        let content_type = headers.get("Content-Type").and_then(Value::as_str);
        // A body that claims JSON but isn't stays text rather than failing the call.
        let body = body_value(content_type, &body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        Ok(HttpOutcome::Response {
            status,
            headers,
            body,
        })
    }

    /// The client to use and the `Authorization` value to set, for the request's
    /// authentication.
    async fn authenticate(
        &self,
        auth: Option<&OutboundAuth>,
    ) -> Result<(reqwest::Client, Option<String>), Failure> {
        match auth {
            None => Ok((self.client.clone(), None)),
            Some(OutboundAuth::ClientCertificate { pfx, password }) => {
                let client = self.identity_client(pfx, password.as_deref().unwrap_or(""))?;
                Ok((client, None))
            }
            Some(OutboundAuth::ActiveDirectoryOAuth {
                authority,
                tenant,
                audience,
                client_id,
                secret,
            }) => {
                let authority = authority
                    .as_deref()
                    .unwrap_or(&self.options.oauth_authority);
                let key = credentials::fingerprint(&[
                    "oauth", authority, tenant, audience, client_id, secret,
                ]);
                let token = self
                    .tokens
                    .get(key, || {
                        self.client_credentials(authority, tenant, client_id, secret, audience)
                    })
                    .await?;
                Ok((self.client.clone(), Some(format!("Bearer {token}"))))
            }
            Some(OutboundAuth::ActiveDirectoryOAuthCertificate {
                authority,
                tenant,
                audience,
                client_id,
                pfx,
                password,
            }) => {
                let authority = authority
                    .as_deref()
                    .unwrap_or(&self.options.oauth_authority);
                let password = password.as_deref().unwrap_or("");
                let key = credentials::fingerprint(&[
                    "oauth-certificate",
                    authority,
                    tenant,
                    audience,
                    client_id,
                    pfx,
                    password,
                ]);
                let token = self
                    .tokens
                    .get(key, || {
                        self.certificate_credentials(
                            authority, tenant, client_id, pfx, password, audience,
                        )
                    })
                    .await?;
                Ok((self.client.clone(), Some(format!("Bearer {token}"))))
            }
            Some(OutboundAuth::ManagedServiceIdentity { audience, identity }) => {
                let Some(endpoint) = &self.options.msi_token_url else {
                    return Err((
                        "ManagedServiceIdentityNotAvailable",
                        "ManagedServiceIdentity is not available outside Azure: configure msi-token-url to use a local token provider".into(),
                    ));
                };
                let identity = identity.as_deref().unwrap_or("");
                let key = credentials::fingerprint(&["msi", endpoint, audience, identity]);
                let token = self
                    .tokens
                    .get(key, || self.identity_token(endpoint, audience, identity))
                    .await?;
                Ok((self.client.clone(), Some(format!("Bearer {token}"))))
            }
        }
    }

    /// A client presenting the PFX's certificate, built once per credential.
    fn identity_client(&self, pfx: &str, password: &str) -> Result<reqwest::Client, Failure> {
        let key = credentials::fingerprint(&["pfx", pfx, password]);
        if let Some(client) = self.identities.lock().expect("identities lock").get(&key) {
            return Ok(client.clone());
        }
        let invalid = |what: String| ("InvalidClientCertificate", what);
        let der = base64::engine::general_purpose::STANDARD
            .decode(pfx.trim())
            .map_err(|_| {
                invalid("authentication.pfx: the certificate is not valid base64".into())
            })?;
        // The password is not in the message: a wrong one and a broken file read alike.
        let identity = reqwest::Identity::from_pkcs12_der(&der, password).map_err(|_| {
            invalid(
                "authentication.pfx: the PKCS#12 certificate could not be read (wrong password or not a PFX file)".into(),
            )
        })?;
        let client = self
            .builder()
            .identity(identity)
            .build()
            .map_err(|e| invalid(format!("authentication.pfx: {e}")))?;
        let mut identities = self.identities.lock().expect("identities lock");
        if identities.len() >= MAX_IDENTITIES {
            identities.clear();
        }
        identities.insert(key, client.clone());
        Ok(client)
    }

    /// An OAuth 2.0 client-credentials grant at the authority's v1 token endpoint
    /// (`resource` = the audience, as Logic Apps' `audience` means).
    async fn client_credentials(
        &self,
        authority: &str,
        tenant: &str,
        client_id: &str,
        secret: &str,
        audience: &str,
    ) -> Result<(String, Duration), Failure> {
        let endpoint = credentials::token_endpoint(authority, tenant);
        let request = self
            .client
            .post(&endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(credentials::client_credentials_form(
                client_id, secret, audience,
            ));
        self.fetch_token(request, &endpoint).await
    }

    /// A client-credentials grant authenticated by a client assertion signed with the
    /// certificate's key (see `client_assertion`).
    async fn certificate_credentials(
        &self,
        authority: &str,
        tenant: &str,
        client_id: &str,
        pfx: &str,
        password: &str,
        audience: &str,
    ) -> Result<(String, Duration), Failure> {
        let endpoint = credentials::token_endpoint(authority, tenant);
        let jti = uuid::Uuid::new_v4().to_string();
        let now = self.clock.now_ms().div_euclid(1000);
        let assertion =
            client_assertion::client_assertion(pfx, password, client_id, &endpoint, now, &jti)?;
        let request = self
            .client
            .post(&endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(client_assertion::assertion_form(
                client_id, &assertion, audience,
            ));
        self.fetch_token(request, &endpoint).await
    }

    /// A managed identity token from the configured endpoint (the Azure instance metadata
    /// service's protocol: `GET ?resource=…` with `Metadata: true`).
    async fn identity_token(
        &self,
        endpoint: &str,
        audience: &str,
        identity: &str,
    ) -> Result<(String, Duration), Failure> {
        let mut query = vec![("api-version", "2018-02-01"), ("resource", audience)];
        if !identity.is_empty() {
            query.push(("mi_res_id", identity));
        }
        let mut url = reqwest::Url::parse(endpoint).map_err(|e| {
            (
                "ManagedServiceIdentityNotAvailable",
                format!("msi-token-url '{endpoint}' is not a valid URL: {e}"),
            )
        })?;
        url.query_pairs_mut().extend_pairs(query);
        let request = self.client.get(url).header("Metadata", "true");
        self.fetch_token(request, endpoint).await
    }

    async fn fetch_token(
        &self,
        request: reqwest::RequestBuilder,
        endpoint: &str,
    ) -> Result<(String, Duration), Failure> {
        const CODE: &str = "AuthenticationFailed";
        let response = request
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| {
                let (code, message) = describe(e);
                let code = if code == EGRESS_DENIED { code } else { CODE };
                (code, format!("getting a token from {endpoint}: {message}"))
            })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| (CODE, format!("getting a token from {endpoint}: {e}")))?;
        if !(200..300).contains(&status) {
            return Err((
                CODE,
                format!(
                    "the token endpoint {endpoint} answered {status}: {}",
                    credentials::token_error(&body)
                ),
            ));
        }
        credentials::parse_token_response(&body)
            .map_err(|message| (CODE, format!("{message} ({endpoint})")))
    }
}

fn too_large(max_bytes: usize) -> Failure {
    (
        "ResponseTooLarge",
        format!("the response body exceeds {max_bytes} bytes"),
    )
}

/// A stable code for a call that got no response. Refusals by the egress policy are found in
/// the error's chain (the resolver's error travels inside the connect error).
fn describe(error: reqwest::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(denied) = cause.downcast_ref::<EgressDenied>() {
            return (EGRESS_DENIED, denied.to_string());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        ("RequestTimeout", format!("the request timed out: {error}"))
    } else if error.is_connect() {
        (
            "ConnectionFailed",
            format!("could not connect: {}", chain(&error)),
        )
    } else if error.is_builder() {
        ("InvalidRequest", format!("the request is invalid: {error}"))
    } else {
        (
            "BadGateway",
            format!("the request failed: {}", chain(&error)),
        )
    }
}

/// An error with its causes (reqwest's own message says little: "error sending request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `content-type` → `Content-Type`, as Logic Apps shows header names.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}
