
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'flagd' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'flagd'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'flagd' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'The environment to serve')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment to serve')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Serve a flags repository directory, watched for changes')
            [CompletionResult]::new('--git-url', '--git-url', [CompletionResultType]::ParameterName, 'Serve a git repository (URL or local path), fetched every poll')
            [CompletionResult]::new('--ref', '--ref', [CompletionResultType]::ParameterName, 'With --git-url: the branch, tag or commit to follow (default: the remote''s HEAD)')
            [CompletionResult]::new('--git-path', '--git-path', [CompletionResultType]::ParameterName, 'With --git-url: the directory holding flags.toml inside the git repository (default: its root), for flags kept in a monorepo')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Serve a bundle from a file (watched) or an http(s) URL (polled)')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'How often to poll the source (default 10s; git and bundle URLs are polled, directories and files are also watched)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (default 127.0.0.1:8013; port 0 picks one)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory for state: git clone, last good ruleset, rollout state and audit log (default .flagd-state)')
            [CompletionResult]::new('--metrics-url', '--metrics-url', [CompletionResultType]::ParameterName, 'Prometheus HTTP API for rollout health checks (default: flags.toml''s [metrics] prometheus)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads serving requests (default: the CPUs minus one, at least one — flagd runs next to the applications it serves and leaves them a core)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--auth-jwt-secret-file', '--auth-jwt-secret-file', [CompletionResultType]::ParameterName, 'Verify bearer tokens with this HS256 secret (at least 32 bytes)')
            [CompletionResult]::new('--auth-jwt-public-key', '--auth-jwt-public-key', [CompletionResultType]::ParameterName, 'Verify bearer tokens with this RSA (RS256) or P-256 (ES256) public key, PEM')
            [CompletionResult]::new('--allowed-origin', '--allowed-origin', [CompletionResultType]::ParameterName, 'A web page origin (`https://ops.example.com`) allowed to call the steering and refresh endpoints; repeat for several. Requests from any other page are refused (default: none)')
            [CompletionResult]::new('--cors-origin', '--cors-origin', [CompletionResultType]::ParameterName, 'A web page origin (`https://shop.example.com`, or `*` for any) whose scripts may evaluate flags (CORS on the evaluation and OFREP endpoints); repeat for several (default: none)')
            [CompletionResult]::new('--allowed-host', '--allowed-host', [CompletionResultType]::ParameterName, 'Answer only requests naming this host (`flags.internal`, or with a port); repeat for several. Against DNS rebinding (default: any)')
            [CompletionResult]::new('--ui', '--ui', [CompletionResultType]::ParameterName, 'The dashboard under /ui/ (docs/dashboard.md): `off`; `read`, pages for the viewer role and up (the default); or `steer`, also steering controls for the admin role')
            [CompletionResult]::new('--auth-jwks-file', '--auth-jwks-file', [CompletionResultType]::ParameterName, 'Verify bearer tokens with the keys of this JWKS document (by `kid`)')
            [CompletionResult]::new('--auth-issuer', '--auth-issuer', [CompletionResultType]::ParameterName, 'Require this `iss` in tokens')
            [CompletionResult]::new('--auth-audience', '--auth-audience', [CompletionResultType]::ParameterName, 'Require this `aud` in tokens')
            [CompletionResult]::new('--auth-role-claim', '--auth-role-claim', [CompletionResultType]::ParameterName, 'The claim holding the role: viewer, developer or admin (default `role`)')
            [CompletionResult]::new('--api-keys-file', '--api-keys-file', [CompletionResultType]::ParameterName, 'API keys accepted for evaluation (`X-API-Key`): one `name = key` a line')
            [CompletionResult]::new('--client-api-keys-file', '--client-api-keys-file', [CompletionResultType]::ParameterName, 'Client keys for browsers and mobile apps (`X-API-Key`): one `name = key` a line; they evaluate `clientSide` flags only')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Serve HTTPS with this certificate chain (PEM); reloaded when it changes')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM); reloaded when it changes')
            [CompletionResult]::new('--bundle-public-key', '--bundle-public-key', [CompletionResultType]::ParameterName, 'With --bundle: accept only bundles signed by this Ed25519 public key (PEM, as `flagctl keygen` writes to FILE.pub). Repeat to trust several keys while rotating; a list in the config file')
            [CompletionResult]::new('--webhook-secret-file', '--webhook-secret-file', [CompletionResultType]::ParameterName, 'Verify push webhooks on POST /api/v1/ruleset/refresh with the HMAC-SHA256 secret in this file (GitHub''s X-Hub-Signature-256, Gitea''s X-Gitea-Signature)')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Requests a second per client (token subject, API key or IP; default 0: off)')
            [CompletionResult]::new('--rate-burst', '--rate-burst', [CompletionResultType]::ParameterName, 'Requests a client may burst above --rate-limit (default: twice the rate)')
            [CompletionResult]::new('--max-body-bytes', '--max-body-bytes', [CompletionResultType]::ParameterName, 'Largest request body in bytes (default 262144)')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'Time a client has to send its request headers (default 10s)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Time a connection may stay silent before its first request and between keep-alive requests (default 10s)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Open connections at most; more are answered 503 and closed (default 10000, fewer under a lower open-file limit)')
            [CompletionResult]::new('--max-event-streams', '--max-event-streams', [CompletionResultType]::ParameterName, 'OFREP change-event streams (browsers, mobile apps) open at most; more are answered 503. 0 turns streams off (default 1000)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time to answer one request, body upload included (default 30s)')
            [CompletionResult]::new('--max-bulk-flags', '--max-bulk-flags', [CompletionResultType]::ParameterName, 'Flags one bulk request may name (default 1000)')
            [CompletionResult]::new('--max-context-attributes', '--max-context-attributes', [CompletionResultType]::ParameterName, 'Attributes one context may have (default 256)')
            [CompletionResult]::new('--max-context-depth', '--max-context-depth', [CompletionResultType]::ParameterName, 'Nesting depth of attribute values (default 8)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Run as one replica of a cluster sharing rollout state in etcd: one leader decides, every replica serves the same positions (etcd://HOST:PORT[,HOST:PORT…]; docs/cluster.md)')
            [CompletionResult]::new('--cluster-prefix', '--cluster-prefix', [CompletionResultType]::ParameterName, 'The etcd key prefix of this environment''s state (default /hotswap-flags/ENV/)')
            [CompletionResult]::new('--cluster-replica', '--cluster-replica', [CompletionResultType]::ParameterName, 'This replica''s name in the API and the audit trail (default: HOSTNAME:PORT)')
            [CompletionResult]::new('--cluster-lease-ttl', '--cluster-lease-ttl', [CompletionResultType]::ParameterName, 'How long the leader''s etcd lease lasts without renewal: the longest a dead leader holds the rollouts (default 10s)')
            [CompletionResult]::new('--cluster-ca', '--cluster-ca', [CompletionResultType]::ParameterName, 'The CA certificate (PEM) that signed etcd''s, for TLS to etcd')
            [CompletionResult]::new('--cluster-cert', '--cluster-cert', [CompletionResultType]::ParameterName, 'This client''s certificate (PEM), for etcd''s client certificate auth')
            [CompletionResult]::new('--cluster-key', '--cluster-key', [CompletionResultType]::ParameterName, 'The private key (PEM) of --cluster-cert')
            [CompletionResult]::new('--cluster-user', '--cluster-user', [CompletionResultType]::ParameterName, 'The etcd user, with --cluster-password-file')
            [CompletionResult]::new('--cluster-password-file', '--cluster-password-file', [CompletionResultType]::ParameterName, 'A file holding the etcd user''s password')
            [CompletionResult]::new('--otlp-endpoint', '--otlp-endpoint', [CompletionResultType]::ParameterName, 'Export traces over OTLP/HTTP to this collector: its base URL (`http://collector:4318`; `/v1/traces` is appended). Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT; neither: tracing is off')
            [CompletionResult]::new('--otlp-protocol', '--otlp-protocol', [CompletionResultType]::ParameterName, 'The OTLP encoding: http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)')
            [CompletionResult]::new('--otel-service-name', '--otel-service-name', [CompletionResultType]::ParameterName, 'The traces'' service.name (default: OTEL_SERVICE_NAME, else flagd)')
            [CompletionResult]::new('--otel-sampler', '--otel-sampler', [CompletionResultType]::ParameterName, 'Which requests are traced: always_on, always_off, traceidratio or parentbased_* of those (default: OTEL_TRACES_SAMPLER, else parentbased_always_on). Rollout spans are always kept')
            [CompletionResult]::new('--otel-sampler-arg', '--otel-sampler-arg', [CompletionResultType]::ParameterName, 'The sampler''s ratio, 0 to 1 (default: OTEL_TRACES_SAMPLER_ARG, else 1)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read options from a TOML file (keys are the long option names)')
            [CompletionResult]::new('--completions', '--completions', [CompletionResultType]::ParameterName, 'Print shell completions and exit')
            [CompletionResult]::new('--auth-eval', '--auth-eval', [CompletionResultType]::ParameterName, 'Evaluation needs a valid token or API key too (default: open)')
            [CompletionResult]::new('--metrics-auth', '--metrics-auth', [CompletionResultType]::ParameterName, '`/metrics` needs a viewer token (default: open)')
            [CompletionResult]::new('--otel-context-id', '--otel-context-id', [CompletionResultType]::ParameterName, 'Record each evaluation''s targeting key as feature_flag.context.id (default: not recorded, as it can be personal data)')
            [CompletionResult]::new('--check-config', '--check-config', [CompletionResultType]::ParameterName, 'Check the options (the command line and the --config file) as a start would, print what they resolve to, and exit: 0 when flagd would start with them, 2 otherwise. Reads no other file, binds and contacts nothing, so options can be checked away from where they run (a Kubernetes manifest''s, for one)')
            [CompletionResult]::new('--man', '--man', [CompletionResultType]::ParameterName, 'Print the man page and exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
