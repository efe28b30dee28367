
use builtin;
use str;

set edit:completion:arg-completer[flagd] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'flagd'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'flagd'= {
            cand -e 'The environment to serve'
            cand --env 'The environment to serve'
            cand --repo 'Serve a flags repository directory, watched for changes'
            cand --git-url 'Serve a git repository (URL or local path), fetched every poll'
            cand --ref 'With --git-url: the branch, tag or commit to follow (default: the remote''s HEAD)'
            cand --git-path 'With --git-url: the directory holding flags.toml inside the git repository (default: its root), for flags kept in a monorepo'
            cand --bundle 'Serve a bundle from a file (watched) or an http(s) URL (polled)'
            cand --poll 'How often to poll the source (default 10s; git and bundle URLs are polled, directories and files are also watched)'
            cand --listen 'Address to listen on (default 127.0.0.1:8013; port 0 picks one)'
            cand --state-dir 'Directory for state: git clone, last good ruleset, rollout state and audit log (default .flagd-state)'
            cand --metrics-url 'Prometheus HTTP API for rollout health checks (default: flags.toml''s [metrics] prometheus)'
            cand --workers 'Threads serving requests (default: the CPUs minus one, at least one — flagd runs next to the applications it serves and leaves them a core)'
            cand --log-format 'Log format on stderr'
            cand --auth-jwt-secret-file 'Verify bearer tokens with this HS256 secret (at least 32 bytes)'
            cand --auth-jwt-public-key 'Verify bearer tokens with this RSA (RS256) or P-256 (ES256) public key, PEM'
            cand --allowed-origin 'A web page origin (`https://ops.example.com`) allowed to call the steering and refresh endpoints; repeat for several. Requests from any other page are refused (default: none)'
            cand --cors-origin 'A web page origin (`https://shop.example.com`, or `*` for any) whose scripts may evaluate flags (CORS on the evaluation and OFREP endpoints); repeat for several (default: none)'
            cand --allowed-host 'Answer only requests naming this host (`flags.internal`, or with a port); repeat for several. Against DNS rebinding (default: any)'
            cand --ui 'The dashboard under /ui/ (docs/dashboard.md): `off`; `read`, pages for the viewer role and up (the default); or `steer`, also steering controls for the admin role'
            cand --auth-jwks-file 'Verify bearer tokens with the keys of this JWKS document (by `kid`)'
            cand --auth-issuer 'Require this `iss` in tokens'
            cand --auth-audience 'Require this `aud` in tokens'
            cand --auth-role-claim 'The claim holding the role: viewer, developer or admin (default `role`)'
            cand --api-keys-file 'API keys accepted for evaluation (`X-API-Key`): one `name = key` a line'
            cand --client-api-keys-file 'Client keys for browsers and mobile apps (`X-API-Key`): one `name = key` a line; they evaluate `clientSide` flags only'
            cand --tls-cert 'Serve HTTPS with this certificate chain (PEM); reloaded when it changes'
            cand --tls-key 'The private key of --tls-cert (PEM); reloaded when it changes'
            cand --bundle-public-key 'With --bundle: accept only bundles signed by this Ed25519 public key (PEM, as `flagctl keygen` writes to FILE.pub). Repeat to trust several keys while rotating; a list in the config file'
            cand --webhook-secret-file 'Verify push webhooks on POST /api/v1/ruleset/refresh with the HMAC-SHA256 secret in this file (GitHub''s X-Hub-Signature-256, Gitea''s X-Gitea-Signature)'
            cand --rate-limit 'Requests a second per client (token subject, API key or IP; default 0: off)'
            cand --rate-burst 'Requests a client may burst above --rate-limit (default: twice the rate)'
            cand --max-body-bytes 'Largest request body in bytes (default 262144)'
            cand --header-timeout 'Time a client has to send its request headers (default 10s)'
            cand --idle-timeout 'Time a connection may stay silent before its first request and between keep-alive requests (default 10s)'
            cand --max-connections 'Open connections at most; more are answered 503 and closed (default 10000, fewer under a lower open-file limit)'
            cand --max-event-streams 'OFREP change-event streams (browsers, mobile apps) open at most; more are answered 503. 0 turns streams off (default 1000)'
            cand --request-timeout 'Time to answer one request, body upload included (default 30s)'
            cand --max-bulk-flags 'Flags one bulk request may name (default 1000)'
            cand --max-context-attributes 'Attributes one context may have (default 256)'
            cand --max-context-depth 'Nesting depth of attribute values (default 8)'
            cand --cluster 'Run as one replica of a cluster sharing rollout state in etcd: one leader decides, every replica serves the same positions (etcd://HOST:PORT[,HOST:PORT…]; docs/cluster.md)'
            cand --cluster-prefix 'The etcd key prefix of this environment''s state (default /hotswap-flags/ENV/)'
            cand --cluster-replica 'This replica''s name in the API and the audit trail (default: HOSTNAME:PORT)'
            cand --cluster-lease-ttl 'How long the leader''s etcd lease lasts without renewal: the longest a dead leader holds the rollouts (default 10s)'
            cand --cluster-ca 'The CA certificate (PEM) that signed etcd''s, for TLS to etcd'
            cand --cluster-cert 'This client''s certificate (PEM), for etcd''s client certificate auth'
            cand --cluster-key 'The private key (PEM) of --cluster-cert'
            cand --cluster-user 'The etcd user, with --cluster-password-file'
            cand --cluster-password-file 'A file holding the etcd user''s password'
            cand --otlp-endpoint 'Export traces over OTLP/HTTP to this collector: its base URL (`http://collector:4318`; `/v1/traces` is appended). Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT; neither: tracing is off'
            cand --otlp-protocol 'The OTLP encoding: http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)'
            cand --otel-service-name 'The traces'' service.name (default: OTEL_SERVICE_NAME, else flagd)'
            cand --otel-sampler 'Which requests are traced: always_on, always_off, traceidratio or parentbased_* of those (default: OTEL_TRACES_SAMPLER, else parentbased_always_on). Rollout spans are always kept'
            cand --otel-sampler-arg 'The sampler''s ratio, 0 to 1 (default: OTEL_TRACES_SAMPLER_ARG, else 1)'
            cand --config 'Read options from a TOML file (keys are the long option names)'
            cand --completions 'Print shell completions and exit'
            cand --auth-eval 'Evaluation needs a valid token or API key too (default: open)'
            cand --metrics-auth '`/metrics` needs a viewer token (default: open)'
            cand --otel-context-id 'Record each evaluation''s targeting key as feature_flag.context.id (default: not recorded, as it can be personal data)'
            cand --check-config 'Check the options (the command line and the --config file) as a start would, print what they resolve to, and exit: 0 when flagd would start with them, 2 otherwise. Reads no other file, binds and contacts nothing, so options can be checked away from where they run (a Kubernetes manifest''s, for one)'
            cand --man 'Print the man page and exit'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
