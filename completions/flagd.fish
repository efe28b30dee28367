complete -c flagd -s e -l env -d 'The environment to serve' -r
complete -c flagd -l repo -d 'Serve a flags repository directory, watched for changes' -r -F
complete -c flagd -l git-url -d 'Serve a git repository (URL or local path), fetched every poll' -r
complete -c flagd -l ref -d 'With --git-url: the branch, tag or commit to follow (default: the remote\'s HEAD)' -r
complete -c flagd -l git-path -d 'With --git-url: the directory holding flags.toml inside the git repository (default: its root), for flags kept in a monorepo' -r
complete -c flagd -l bundle -d 'Serve a bundle from a file (watched) or an http(s) URL (polled)' -r
complete -c flagd -l poll -d 'How often to poll the source (default 10s; git and bundle URLs are polled, directories and files are also watched)' -r
complete -c flagd -l listen -d 'Address to listen on (default 127.0.0.1:8013; port 0 picks one)' -r
complete -c flagd -l state-dir -d 'Directory for state: git clone, last good ruleset, rollout state and audit log (default .flagd-state)' -r -F
complete -c flagd -l metrics-url -d 'Prometheus HTTP API for rollout health checks (default: flags.toml\'s [metrics] prometheus)' -r
complete -c flagd -l workers -d 'Threads serving requests (default: the CPUs minus one, at least one — flagd runs next to the applications it serves and leaves them a core)' -r
complete -c flagd -l log-format -d 'Log format on stderr' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object a line'"
complete -c flagd -l auth-jwt-secret-file -d 'Verify bearer tokens with this HS256 secret (at least 32 bytes)' -r -F
complete -c flagd -l auth-jwt-public-key -d 'Verify bearer tokens with this RSA (RS256) or P-256 (ES256) public key, PEM' -r -F
complete -c flagd -l allowed-origin -d 'A web page origin (`https://ops.example.com`) allowed to call the steering and refresh endpoints; repeat for several. Requests from any other page are refused (default: none)' -r
complete -c flagd -l cors-origin -d 'A web page origin (`https://shop.example.com`, or `*` for any) whose scripts may evaluate flags (CORS on the evaluation and OFREP endpoints); repeat for several (default: none)' -r
complete -c flagd -l allowed-host -d 'Answer only requests naming this host (`flags.internal`, or with a port); repeat for several. Against DNS rebinding (default: any)' -r
complete -c flagd -l ui -d 'The dashboard under /ui/ (docs/dashboard.md): `off`; `read`, pages for the viewer role and up (the default); or `steer`, also steering controls for the admin role' -r -f -a "off\t'Not served'
read\t'Pages for the read role'
steer\t'Also steering controls, for the admin role'"
complete -c flagd -l auth-jwks-file -d 'Verify bearer tokens with the keys of this JWKS document (by `kid`)' -r -F
complete -c flagd -l auth-issuer -d 'Require this `iss` in tokens' -r
complete -c flagd -l auth-audience -d 'Require this `aud` in tokens' -r
complete -c flagd -l auth-role-claim -d 'The claim holding the role: viewer, developer or admin (default `role`)' -r
complete -c flagd -l api-keys-file -d 'API keys accepted for evaluation (`X-API-Key`): one `name = key` a line' -r -F
complete -c flagd -l client-api-keys-file -d 'Client keys for browsers and mobile apps (`X-API-Key`): one `name = key` a line; they evaluate `clientSide` flags only' -r -F
complete -c flagd -l tls-cert -d 'Serve HTTPS with this certificate chain (PEM); reloaded when it changes' -r -F
complete -c flagd -l tls-key -d 'The private key of --tls-cert (PEM); reloaded when it changes' -r -F
complete -c flagd -l bundle-public-key -d 'With --bundle: accept only bundles signed by this Ed25519 public key (PEM, as `flagctl keygen` writes to FILE.pub). Repeat to trust several keys while rotating; a list in the config file' -r -F
complete -c flagd -l webhook-secret-file -d 'Verify push webhooks on POST /api/v1/ruleset/refresh with the HMAC-SHA256 secret in this file (GitHub\'s X-Hub-Signature-256, Gitea\'s X-Gitea-Signature)' -r -F
complete -c flagd -l rate-limit -d 'Requests a second per client (token subject, API key or IP; default 0: off)' -r
complete -c flagd -l rate-burst -d 'Requests a client may burst above --rate-limit (default: twice the rate)' -r
complete -c flagd -l max-body-bytes -d 'Largest request body in bytes (default 262144)' -r
complete -c flagd -l header-timeout -d 'Time a client has to send its request headers (default 10s)' -r
complete -c flagd -l idle-timeout -d 'Time a connection may stay silent before its first request and between keep-alive requests (default 10s)' -r
complete -c flagd -l max-connections -d 'Open connections at most; more are answered 503 and closed (default 10000, fewer under a lower open-file limit)' -r
complete -c flagd -l max-event-streams -d 'OFREP change-event streams (browsers, mobile apps) open at most; more are answered 503. 0 turns streams off (default 1000)' -r
complete -c flagd -l request-timeout -d 'Time to answer one request, body upload included (default 30s)' -r
complete -c flagd -l max-bulk-flags -d 'Flags one bulk request may name (default 1000)' -r
complete -c flagd -l max-context-attributes -d 'Attributes one context may have (default 256)' -r
complete -c flagd -l max-context-depth -d 'Nesting depth of attribute values (default 8)' -r
complete -c flagd -l cluster -d 'Run as one replica of a cluster sharing rollout state in etcd: one leader decides, every replica serves the same positions (etcd://HOST:PORT[,HOST:PORT…]; docs/cluster.md)' -r
complete -c flagd -l cluster-prefix -d 'The etcd key prefix of this environment\'s state (default /hotswap-flags/ENV/)' -r
complete -c flagd -l cluster-replica -d 'This replica\'s name in the API and the audit trail (default: HOSTNAME:PORT)' -r
complete -c flagd -l cluster-lease-ttl -d 'How long the leader\'s etcd lease lasts without renewal: the longest a dead leader holds the rollouts (default 10s)' -r
complete -c flagd -l cluster-ca -d 'The CA certificate (PEM) that signed etcd\'s, for TLS to etcd' -r -F
complete -c flagd -l cluster-cert -d 'This client\'s certificate (PEM), for etcd\'s client certificate auth' -r -F
complete -c flagd -l cluster-key -d 'The private key (PEM) of --cluster-cert' -r -F
complete -c flagd -l cluster-user -d 'The etcd user, with --cluster-password-file' -r
complete -c flagd -l cluster-password-file -d 'A file holding the etcd user\'s password' -r -F
complete -c flagd -l otlp-endpoint -d 'Export traces over OTLP/HTTP to this collector: its base URL (`http://collector:4318`; `/v1/traces` is appended). Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT; neither: tracing is off' -r
complete -c flagd -l otlp-protocol -d 'The OTLP encoding: http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)' -r
complete -c flagd -l otel-service-name -d 'The traces\' service.name (default: OTEL_SERVICE_NAME, else flagd)' -r
complete -c flagd -l otel-sampler -d 'Which requests are traced: always_on, always_off, traceidratio or parentbased_* of those (default: OTEL_TRACES_SAMPLER, else parentbased_always_on). Rollout spans are always kept' -r
complete -c flagd -l otel-sampler-arg -d 'The sampler\'s ratio, 0 to 1 (default: OTEL_TRACES_SAMPLER_ARG, else 1)' -r
complete -c flagd -l config -d 'Read options from a TOML file (keys are the long option names)' -r -F
complete -c flagd -l completions -d 'Print shell completions and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c flagd -l auth-eval -d 'Evaluation needs a valid token or API key too (default: open)'
complete -c flagd -l metrics-auth -d '`/metrics` needs a viewer token (default: open)'
complete -c flagd -l otel-context-id -d 'Record each evaluation\'s targeting key as feature_flag.context.id (default: not recorded, as it can be personal data)'
complete -c flagd -l check-config -d 'Check the options (the command line and the --config file) as a start would, print what they resolve to, and exit: 0 when flagd would start with them, 2 otherwise. Reads no other file, binds and contacts nothing, so options can be checked away from where they run (a Kubernetes manifest\'s, for one)'
complete -c flagd -l man -d 'Print the man page and exit'
complete -c flagd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagd -s V -l version -d 'Print version'
