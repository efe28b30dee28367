//! The few etcd v3 calls the cluster store makes, over etcd's JSON gateway
//! (docs/cluster.md, The etcd client).
//!
//! etcd serves its v3 API as JSON over HTTP on the client port it serves
//! gRPC on (`/v3/kv/range`, `/v3/kv/txn`, `/v3/watch`, `/v3/lease/…`,
//! `/v3/auth/authenticate`). Speaking JSON rather than gRPC keeps `protoc`
//! and a gRPC stack out of the build: flagd already has an HTTP client.
//!
//! The gateway's JSON is protobuf's: keys and values are base64, 64-bit
//! integers are strings, and fields at their default (`0`, `false`, an
//! empty list, the `PUT` event type) are left out, hence `#[serde(default)]`
//! on every answer.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// How the gateway could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No answer: refused, reset, timed out, or TLS failed.
    #[error("etcd at {endpoint}: {reason}")]
    Transport {
        /// The endpoint called.
        endpoint: String,
        /// Why, with the causes.
        reason: String,
    },
    /// etcd answered with an error.
    #[error("etcd at {endpoint}: {message} (HTTP {status})")]
    Refused {
        /// The endpoint called.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// etcd's message.
        message: String,
    },
    /// An answer that is not the gateway's JSON.
    #[error("etcd at {endpoint}: unreadable answer: {reason}")]
    Unreadable {
        /// The endpoint called.
        endpoint: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A watch stream ended or was canceled by etcd.
    #[error("etcd watch: {0}")]
    WatchEnded(String),
}

/// TLS to etcd: the CA that signed its certificate and this client's
/// certificate and key, all PEM.
#[derive(Debug, Default)]
pub struct Tls {
    /// The CA certificate(s).
    pub ca: Option<Vec<u8>>,
    /// Certificate and private key, for etcd's `--client-cert-auth`.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// A key and value as etcd stores them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    /// The key.
    #[serde(deserialize_with = "base64_bytes")]
    pub key: Vec<u8>,
    /// The value.
    #[serde(deserialize_with = "base64_bytes")]
    pub value: Vec<u8>,
    /// The revision that created the key.
    #[serde(deserialize_with = "int64")]
    pub create_revision: i64,
    /// The revision of its last change.
    #[serde(deserialize_with = "int64")]
    pub mod_revision: i64,
    /// The lease it is attached to (0: none).
    #[serde(deserialize_with = "int64")]
    pub lease: i64,
}

/// What every answer carries: the store's revision when it was made.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Header {
    /// The store's revision.
    #[serde(deserialize_with = "int64")]
    pub revision: i64,
}

/// The answer to a read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Range {
    /// The store's revision at the read.
    pub header: Header,
    /// The keys read.
    pub kvs: Vec<KeyValue>,
}

/// The answer to a transaction.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TxnResponse {
    /// The store's revision after it.
    pub header: Header,
    /// Whether every comparison held (and the success branch ran).
    pub succeeded: bool,
    responses: Vec<OpResponse>,
}

impl TxnResponse {
    /// The keys the branch that ran read, in order.
    pub fn ranges(&self) -> impl Iterator<Item = &Range> {
        self.responses
            .iter()
            .filter_map(|r| r.response_range.as_ref())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpResponse {
    response_range: Option<Range>,
}

/// One change a watch saw.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Event {
    #[serde(rename = "type")]
    kind: String,
    /// The key after the change (for a delete: the key, no value).
    pub kv: Option<KeyValue>,
}

impl Event {
    /// A delete rather than a put (the gateway leaves the default, `PUT`,
    /// out).
    pub fn is_delete(&self) -> bool {
        self.kind == "DELETE"
    }
}

/// One message of a watch.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WatchResponse {
    /// The store's revision.
    pub header: Header,
    /// The changes, oldest first.
    pub events: Vec<Event>,
    canceled: bool,
    cancel_reason: String,
    #[serde(deserialize_with = "int64")]
    compact_revision: i64,
}

/// A granted lease.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Lease {
    /// Its ID.
    #[serde(rename = "ID", deserialize_with = "int64")]
    pub id: i64,
    /// Its time to live in seconds, as etcd granted or renewed it; 0 or less
    /// once it expired.
    #[serde(rename = "TTL", deserialize_with = "int64")]
    pub ttl: i64,
}

/// What a comparison of a transaction looks at.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The revision that created the key (0: it does not exist).
    Create,
    /// The revision of the key's last change.
    Mod,
    /// The lease the key is attached to (0: none).
    Lease,
}

/// A condition of a transaction: the key's (or, with a prefix, every
/// key's) `target` equals `revision`.
#[derive(Debug, Clone)]
pub struct Compare {
    key: String,
    prefix: bool,
    target: Target,
    revision: i64,
}

impl Compare {
    /// `key`'s `target` equals `revision`.
    pub fn equal(key: impl Into<String>, target: Target, revision: i64) -> Self {
        Compare {
            key: key.into(),
            prefix: false,
            target,
            revision,
        }
    }

    /// The same, for every key under `prefix`.
    pub fn all_under(prefix: impl Into<String>, target: Target, revision: i64) -> Self {
        Compare {
            prefix: true,
            ..Compare::equal(prefix, target, revision)
        }
    }

    fn to_json(&self) -> Value {
        let (target, field) = match self.target {
            Target::Create => ("CREATE", "create_revision"),
            Target::Mod => ("MOD", "mod_revision"),
            Target::Lease => ("LEASE", "lease"),
        };
        let mut compare = json!({
            "key": BASE64.encode(&self.key),
            "target": target,
            "result": "EQUAL",
            field: self.revision.to_string(),
        });
        if self.prefix {
            compare["range_end"] = Value::from(BASE64.encode(prefix_end(self.key.as_bytes())));
        }
        compare
    }
}

/// An operation of a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    /// Writes `value` at `key`, attached to `lease` when it is not 0.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
        /// The lease (0: none).
        lease: i64,
    },
    /// Reads `key`.
    Get(String),
    /// Deletes `key`.
    Delete(String),
}

impl Op {
    /// A put with no lease.
    pub fn put(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Op::Put {
            key: key.into(),
            value: value.into(),
            lease: 0,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Op::Put { key, value, lease } => {
                let mut put = json!({ "key": BASE64.encode(key), "value": BASE64.encode(value) });
                if *lease != 0 {
                    put["lease"] = Value::from(lease.to_string());
                }
                json!({ "request_put": put })
            }
            Op::Get(key) => json!({ "request_range": { "key": BASE64.encode(key) } }),
            Op::Delete(key) => json!({ "request_delete_range": { "key": BASE64.encode(key) } }),
        }
    }
}

/// A transaction: `success` runs if every comparison holds, else `failure`.
#[derive(Debug, Default)]
pub struct Txn {
    /// The conditions.
    pub compare: Vec<Compare>,
    /// What runs when they all hold.
    pub success: Vec<Op>,
    /// What runs otherwise.
    pub failure: Vec<Op>,
}

impl Txn {
    /// A transaction with no conditions: `ops`, atomically.
    pub fn success(ops: Vec<Op>) -> Self {
        Txn {
            success: ops,
            ..Txn::default()
        }
    }
}

/// A read of many keys cut to the `limit` most recently created, newest
/// first, among those created at or before `at_most` (when not 0): one page
/// of a long audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Newest {
    /// How many keys at most.
    pub limit: usize,
    /// The newest creation revision to read (0: any).
    pub at_most: i64,
}

/// A client of one etcd cluster's gateway, over any of its endpoints.
#[derive(Debug)]
pub struct Gateway {
    http: reqwest::Client,
    /// `http(s)://host:port` of each endpoint.
    endpoints: Vec<String>,
    /// The endpoint calls go to; the next one after a transport error.
    current: AtomicUsize,
    user: Option<(String, String)>,
    /// The token of `user`, once authenticated.
    token: Mutex<Option<String>>,
}

impl Gateway {
    /// A client of `endpoints` (`host:port`): `https` when `tls` is given.
    pub fn new(
        endpoints: &[String],
        tls: Option<Tls>,
        user: Option<(String, String)>,
    ) -> Result<Self, GatewayError> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let endpoints: Vec<String> = endpoints
            .iter()
            .map(|e| format!("{scheme}://{e}"))
            .collect();
        let built = |e: reqwest::Error| GatewayError::Transport {
            endpoint: endpoints.join(","),
            reason: hotswap_flags_client::http::chain(&e),
        };
        // Installing fails harmlessly when a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // A watch sends nothing for as long as nothing changes: keepalive
        // probes notice a dead peer within seconds where the connection
        // would otherwise wait for the kernel's two hours.
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("hotswap-flags/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(2))
            .tcp_keepalive(Duration::from_secs(2))
            .tcp_keepalive_interval(Duration::from_secs(1))
            .tcp_keepalive_retries(2)
            .http1_only();
        if let Some(tls) = tls {
            if let Some(ca) = &tls.ca {
                let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(built)?;
                builder = builder.tls_certs_only(certs);
            }
            if let Some((cert, key)) = &tls.identity {
                let pem = [cert.as_slice(), b"\n", key.as_slice()].concat();
                builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(built)?);
            }
        }
        Ok(Gateway {
            http: builder.build().map_err(built)?,
            endpoints,
            current: AtomicUsize::new(0),
            user,
            token: Mutex::new(None),
        })
    }

    /// Reads `key`, or with `prefix` every key under it; `newest` keeps the
    /// most recently created ones, newest first.
    pub async fn range(
        &self,
        key: &str,
        prefix: bool,
        newest: Option<Newest>,
    ) -> Result<Range, GatewayError> {
        let mut request = json!({ "key": BASE64.encode(key) });
        if prefix {
            request["range_end"] = Value::from(BASE64.encode(prefix_end(key.as_bytes())));
        }
        if let Some(Newest { limit, at_most }) = newest {
            request["sort_order"] = "DESCEND".into();
            request["sort_target"] = "CREATE".into();
            request["limit"] = limit.to_string().into();
            if at_most > 0 {
                request["max_create_revision"] = at_most.to_string().into();
            }
        }
        self.call("/v3/kv/range", &request).await
    }

    /// Runs `txn` atomically.
    pub async fn txn(&self, txn: &Txn) -> Result<TxnResponse, GatewayError> {
        let ops = |ops: &[Op]| ops.iter().map(Op::to_json).collect::<Vec<_>>();
        let request = json!({
            "compare": txn.compare.iter().map(Compare::to_json).collect::<Vec<_>>(),
            "success": ops(&txn.success),
            "failure": ops(&txn.failure),
        });
        self.call("/v3/kv/txn", &request).await
    }

    /// A new lease of `ttl` seconds.
    pub async fn lease_grant(&self, ttl: i64) -> Result<Lease, GatewayError> {
        self.call("/v3/lease/grant", &json!({ "TTL": ttl.to_string() }))
            .await
    }

    /// Renews `lease` once; the answer's TTL is 0 or less if it expired.
    pub async fn lease_keep_alive(&self, lease: i64) -> Result<Lease, GatewayError> {
        // The gateway answers a renewal stream of one request with one
        // message, `{"result": …}`, and ends it.
        let mut stream = self
            .open("/v3/lease/keepalive", &json!({ "ID": lease.to_string() }))
            .await?;
        stream.next().await
    }

    /// Revokes `lease`, deleting the keys attached to it.
    pub async fn lease_revoke(&self, lease: i64) -> Result<(), GatewayError> {
        let _: Value = self
            .call("/v3/lease/revoke", &json!({ "ID": lease.to_string() }))
            .await?;
        Ok(())
    }

    /// Watches `key` (with `prefix`, every key under it) from
    /// `start_revision` on (0: from now).
    pub async fn watch(
        &self,
        key: &str,
        prefix: bool,
        start_revision: i64,
    ) -> Result<Watch, GatewayError> {
        let mut create = json!({ "key": BASE64.encode(key) });
        if prefix {
            create["range_end"] = Value::from(BASE64.encode(prefix_end(key.as_bytes())));
        }
        if start_revision > 0 {
            create["start_revision"] = start_revision.to_string().into();
        }
        let stream = self
            .open("/v3/watch", &json!({ "create_request": create }))
            .await?;
        Ok(Watch { stream })
    }

    /// A unary call: one request, one answer.
    async fn call<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, GatewayError> {
        let (endpoint, response) = self.send(path, body).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.failed(&endpoint, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| GatewayError::Unreadable {
            endpoint,
            reason: e.to_string(),
        })
    }

    /// A streaming call: its messages come one by one.
    async fn open(&self, path: &str, body: &Value) -> Result<Stream, GatewayError> {
        let (endpoint, response) = self.send(path, body).await?;
        Ok(Stream {
            endpoint,
            response,
            buffer: Vec::new(),
        })
    }

    /// Sends `body` to `path` with the auth token, authenticating first (or
    /// again, once, when etcd refuses an expired token).
    async fn send(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<(String, reqwest::Response), GatewayError> {
        let mut retried = false;
        loop {
            let endpoint = self.endpoint();
            let token = self.token(&endpoint).await?;
            let mut request = self.http.post(format!("{endpoint}{path}")).json(body);
            if let Some(token) = token {
                request = request.header(reqwest::header::AUTHORIZATION, token);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.failed(&endpoint, &e))?;
            if response.status().is_success() {
                return Ok((endpoint, response));
            }
            let error = refusal(&endpoint, response).await;
            let auth_expired = matches!(&error, GatewayError::Refused { status: 401, .. });
            if auth_expired && self.user.is_some() && !retried {
                *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
                retried = true;
                continue;
            }
            return Err(error);
        }
    }

    /// The token to send, authenticating `user` when there is none yet.
    async fn token(&self, endpoint: &str) -> Result<Option<String>, GatewayError> {
        let Some((name, password)) = &self.user else {
            return Ok(None);
        };
        if let Some(token) = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(Some(token));
        }
        let response = self
            .http
            .post(format!("{endpoint}/v3/auth/authenticate"))
            .json(&json!({ "name": name, "password": password }))
            .send()
            .await
            .map_err(|e| self.failed(endpoint, &e))?;
        if !response.status().is_success() {
            return Err(refusal(endpoint, response).await);
        }
        #[derive(Deserialize)]
        struct Authenticated {
            token: String,
        }
        let answer: Authenticated =
            response
                .json()
                .await
                .map_err(|e| GatewayError::Unreadable {
                    endpoint: endpoint.to_owned(),
                    reason: e.to_string(),
                })?;
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer.token.clone());
        Ok(Some(answer.token))
    }

    fn endpoint(&self) -> String {
        let i = self.current.load(Ordering::Relaxed) % self.endpoints.len();
        self.endpoints[i].clone()
    }

    /// A transport error on `endpoint`: the next call tries the next one.
    fn failed(&self, endpoint: &str, e: &reqwest::Error) -> GatewayError {
        if self.endpoint() == endpoint {
            self.current.fetch_add(1, Ordering::Relaxed);
        }
        GatewayError::Transport {
            endpoint: endpoint.to_owned(),
            reason: hotswap_flags_client::http::chain(e),
        }
    }
}

/// etcd's error answer: `{"error": …, "message": …, "code": …}`.
async fn refusal(endpoint: &str, response: reqwest::Response) -> GatewayError {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or_default();
    let mut message = match body["message"].as_str().or(body["error"].as_str()) {
        Some(message) => message.to_owned(),
        None => text.trim().chars().take(200).collect(),
    };
    if message.starts_with("CommonName of client") {
        message = "etcd has authentication on, and its JSON gateway refuses a client \
                   certificate with a CommonName (it would not take it as the user): use a \
                   certificate without one, and --cluster-user (docs/cluster.md, The etcd client)"
            .to_owned();
    }
    GatewayError::Refused {
        endpoint: endpoint.to_owned(),
        status,
        message,
    }
}

/// The messages of a streaming call, each `{"result": …}` or
/// `{"error": …}`, one JSON object after another.
#[derive(Debug)]
struct Stream {
    endpoint: String,
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Stream {
    async fn next<T: DeserializeOwned>(&mut self) -> Result<T, GatewayError> {
        loop {
            if let Some(message) = self.take()? {
                return self.result(message);
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| GatewayError::Transport {
                    endpoint: self.endpoint.clone(),
                    reason: hotswap_flags_client::http::chain(&e),
                })?;
            match chunk {
                Some(bytes) => self.buffer.extend_from_slice(&bytes),
                None => return Err(GatewayError::WatchEnded("the stream ended".into())),
            }
        }
    }

    /// The first whole message in the buffer, if one arrived.
    fn take(&mut self) -> Result<Option<Value>, GatewayError> {
        let mut messages = serde_json::Deserializer::from_slice(&self.buffer).into_iter::<Value>();
        match messages.next() {
            Some(Ok(message)) => {
                let used = messages.byte_offset();
                self.buffer.drain(..used);
                Ok(Some(message))
            }
            Some(Err(e)) if e.is_eof() => Ok(None),
            None => Ok(None),
            Some(Err(e)) => Err(GatewayError::Unreadable {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            }),
        }
    }

    fn result<T: DeserializeOwned>(&self, mut message: Value) -> Result<T, GatewayError> {
        if let Some(error) = message.get("error") {
            let message = error["message"].as_str().unwrap_or("no message");
            return Err(GatewayError::WatchEnded(message.to_owned()));
        }
        serde_json::from_value(message["result"].take()).map_err(|e| GatewayError::Unreadable {
            endpoint: self.endpoint.clone(),
            reason: e.to_string(),
        })
    }
}

/// A watch: its messages as etcd sends them.
#[derive(Debug)]
pub struct Watch {
    stream: Stream,
}

impl Watch {
    /// The next message with changes (the confirmation of the watch and
    /// progress notices are skipped); an error when the watch ends or etcd
    /// cancels it (a compacted start revision, lost authorization).
    pub async fn next(&mut self) -> Result<WatchResponse, GatewayError> {
        loop {
            let message: WatchResponse = self.stream.next().await?;
            if message.canceled {
                let mut reason = message.cancel_reason;
                if message.compact_revision > 0 {
                    reason = format!("{reason} (compacted at {})", message.compact_revision);
                }
                return Err(GatewayError::WatchEnded(format!("canceled: {reason}")));
            }
            if !message.events.is_empty() {
                return Ok(message);
            }
        }
    }
}

/// The end of the range of every key that starts with `prefix`: the prefix
/// with its last byte below 0xff incremented (etcd's convention; `\0`, all
/// keys, when there is none).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn base64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    BASE64.decode(text).map_err(serde::de::Error::custom)
}

/// An int64 as protobuf's JSON writes it (a string) or as a number.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        Number(i64),
        Text(String),
    }
    match Int::deserialize(d)? {
        Int::Number(n) => Ok(n),
        Int::Text(t) => t.parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_follow_etcds_convention() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), [0]);
    }

    #[test]
    fn answers_read_with_defaults_left_out() {
        let text = r#"{"header":{"revision":"7"},"kvs":[{"key":"YQ==","create_revision":"5","mod_revision":"6","version":"2"}],"count":"1"}"#;
        let range: Range = serde_json::from_str(text).unwrap();
        assert_eq!(range.header.revision, 7);
        let kv = &range.kvs[0];
        assert_eq!(
            (kv.key.as_slice(), kv.value.as_slice()),
            (&b"a"[..], &b""[..])
        );
        assert_eq!((kv.create_revision, kv.mod_revision, kv.lease), (5, 6, 0));
        let txn: TxnResponse = serde_json::from_str(r#"{"header":{}}"#).unwrap();
        assert!(!txn.succeeded);
        let event: Event = serde_json::from_str(r#"{"kv":{"key":"YQ=="}}"#).unwrap();
        assert!(!event.is_delete());
    }

    #[test]
    fn comparisons_name_the_field_of_their_target() {
        let c = Compare::all_under("/p/", Target::Create, 0).to_json();
        assert_eq!(c["target"], "CREATE");
        assert_eq!(c["create_revision"], "0");
        assert_eq!(c["range_end"], BASE64.encode("/p0"));
        let m = Compare::equal("k", Target::Mod, 9).to_json();
        assert_eq!(m["mod_revision"], "9");
        assert!(m.get("range_end").is_none());
    }
}
