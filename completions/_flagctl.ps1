
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'flagctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'flagctl'
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
        'flagctl' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check flag files: schema and semantics, reported as file:line:col')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Evaluate one flag for a context and explain the answer')
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Write one environment as a self-describing bundle flagd can pull')
            [CompletionResult]::new('verify-bundle', 'verify-bundle', [CompletionResultType]::ParameterValue, 'Check a bundle the way flagd does before serving it (hash, signature, environment, compilation)')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Create an Ed25519 key pair for signing bundles (FILE and FILE.pub)')
            [CompletionResult]::new('rollout', 'rollout', [CompletionResultType]::ParameterValue, 'Steer the rollouts of a running flagd: status, pause, resume, promote, abort')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Simulate a flag over many users: variants per rollout percentage, users who switch between stages, chi-square fit of the split')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Semantic diff of two revisions, with the share of users each change moves')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Copy flags from one environment into the next on a new branch, for review')
            [CompletionResult]::new('stale', 'stale', [CompletionResultType]::ParameterValue, 'Which flags can go: evidence from git, flagd or Prometheus and code references, and a verdict (remove, review, keep) with reasons')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'Remove a flag from every environment on a new branch, listing the code to change')
            [CompletionResult]::new('experiment', 'experiment', [CompletionResultType]::ParameterValue, 'Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import flags from another tool (flagd) into an environment, reporting what cannot be translated exactly')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (or write every page with --out-dir)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;validate' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Check only this environment')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat warnings as findings (exit 1)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;eval' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'The environment')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment')
            [CompletionResult]::new('--ctx', '--ctx', [CompletionResultType]::ParameterName, 'A context attribute: `name=value` sets a string, `name:=json` a JSON value (`age:=42`, `beta:=true`). Repeatable')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The whole context as a JSON object, or `@FILE` to read it from a file')
            [CompletionResult]::new('--percentage', '--percentage', [CompletionResultType]::ParameterName, 'The rollout''s current percentage (default: where it starts — a canary''s first stage, a linear ramp''s `from`)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Evaluate at this time: RFC 3339 (`2025-12-24T18:00:00Z`) or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;bundle' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'The environment to bundle')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment to bundle')
            [CompletionResult]::new('--rev', '--rev', [CompletionResultType]::ParameterName, 'Bundle a git revision (`HEAD`, a branch, a tag, a commit) instead of the working tree; the bundle then records the commit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the bundle (`-` for stdout)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the bundle (`-` for stdout)')
            [CompletionResult]::new('--sign-key', '--sign-key', [CompletionResultType]::ParameterName, 'Sign the bundle with this Ed25519 private key (PKCS#8 PEM, as `flagctl keygen` writes); flagd with --bundle-public-key then accepts it')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;verify-bundle' {
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'Require a valid signature by this Ed25519 public key (PEM, as `flagctl keygen` writes FILE.pub); repeat to accept any of several, as flagd''s --bundle-public-key does')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Require the bundle to be of this environment')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Require the bundle to be of this environment')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;keygen' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to the same path with `.pub` appended. Existing files are never replaced')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to the same path with `.pub` appended. Existing files are never replaced')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;rollout' {
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'The flagd to talk to')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API (when it requires one)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every rollout, or one in detail')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Hold a rollout where it is')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a paused rollout')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Move to the next stage now (with --full: to 100 %)')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Roll back to 0 % until the rollout spec changes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;rollout;status' {
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'The flagd to talk to')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API (when it requires one)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;rollout;pause' {
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'The flagd to talk to')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API (when it requires one)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;rollout;resume' {
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'The flagd to talk to')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API (when it requires one)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;rollout;promote' {
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'The flagd to talk to')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API (when it requires one)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('--full', '--full', [CompletionResultType]::ParameterName, 'Go straight to the last stage')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;rollout;abort' {
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'The flagd to talk to')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API (when it requires one)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;rollout;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every rollout, or one in detail')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Hold a rollout where it is')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a paused rollout')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Move to the next stage now (with --full: to 100 %)')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Roll back to 0 % until the rollout spec changes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;rollout;help;status' {
            break
        }
        'flagctl;rollout;help;pause' {
            break
        }
        'flagctl;rollout;help;resume' {
            break
        }
        'flagctl;rollout;help;promote' {
            break
        }
        'flagctl;rollout;help;abort' {
            break
        }
        'flagctl;rollout;help;help' {
            break
        }
        'flagctl;simulate' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'The environment')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment')
            [CompletionResult]::new('--percentage', '--percentage', [CompletionResultType]::ParameterName, 'A rollout percentage to simulate (repeatable; default: each canary stage, a linear ramp''s from/step points/to, else the current state)')
            [CompletionResult]::new('--users', '--users', [CompletionResultType]::ParameterName, 'Number of users (default 10000; with --contexts, one per line)')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;diff' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Only this environment')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only this environment')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table), pull requests (markdown) or scripts (json)')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when the diff hits one of these policies (comma-separated)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--users', '--users', [CompletionResultType]::ParameterName, 'Number of users (default 10000; with --contexts, one per line)')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;promote' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The environment to copy from')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The environment to copy into')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The branch to create (default: promote/<to>/<first flag>)')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Push the branch to this remote (a name or a URL)')
            [CompletionResult]::new('--users', '--users', [CompletionResultType]::ParameterName, 'Number of users (default 10000; with --contexts, one per line)')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;stale' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Report on this environment (repeatable; default: all)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Report on this environment (repeatable; default: all)')
            [CompletionResult]::new('--src', '--src', [CompletionResultType]::ParameterName, 'Search this directory for code references (repeatable); `.gitignore` is honoured')
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'Ask this flagd for rollouts and evaluation counts (of the environment it serves)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'flagd''s bearer token')
            [CompletionResult]::new('--prometheus', '--prometheus', [CompletionResultType]::ParameterName, 'Ask this Prometheus for evaluation counts over the window')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Serving one variant counts once it has lasted this long; also the window evaluations are counted over')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when a flag gets this verdict, or code evaluates an undefined key (comma-separated)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;retire' {
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'The variant code keeps (default: the one the flag serves everyone)')
            [CompletionResult]::new('--src', '--src', [CompletionResultType]::ParameterName, 'Search this directory for the code references to list (repeatable)')
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'Ask this flagd whether the flag''s rollout has completed')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'flagd''s bearer token')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The branch to create (default: retire/<flag>)')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Push the branch to this remote (a name or a URL)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Retire even while a rollout is not completed or an experiment runs')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;experiment' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;experiment;analyze' {
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'The counts: JSON with exposures and conversions (or sum and sumSquares) per variant, see docs/experiments.md; `-` reads stdin')
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'Read exposures from a running flagd (GET /api/v1/experiments/FLAG) and conversions from Prometheus, with the flag''s `experiment.conversions` query from --env''s definition')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for flagd''s API, with --daemon (when it requires one)')
            [CompletionResult]::new('--metrics-url', '--metrics-url', [CompletionResultType]::ParameterName, 'The Prometheus endpoint for the `experiment.conversions` query, with --daemon (default: flags.toml''s `metrics.prometheus`)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read the flag''s experiment settings from this environment')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Read the flag''s experiment settings from this environment')
            [CompletionResult]::new('--alpha', '--alpha', [CompletionResultType]::ParameterName, 'Significance level (default: the flag''s `experiment.alpha`, else 0.05)')
            [CompletionResult]::new('--mde', '--mde', [CompletionResultType]::ParameterName, 'Minimum detectable effect, relative: 0.05 = 5 % (default: the flag''s `experiment.minimumDetectableEffect`, else 0.05)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;experiment;help' {
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;experiment;help;analyze' {
            break
        }
        'flagctl;experiment;help;help' {
            break
        }
        'flagctl;import' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('flagd', 'flagd', [CompletionResultType]::ParameterValue, 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)')
            [CompletionResult]::new('unleash', 'unleash', [CompletionResultType]::ParameterValue, 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;import;flagd' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment to write the flags into')
            [CompletionResult]::new('--fractional', '--fractional', [CompletionResultType]::ParameterName, 'Which of flagd''s `fractional` algorithms the flags bucket with')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;import;unleash' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment to write the flags into')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output for people (table) or scripts (json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;import;help' {
            [CompletionResult]::new('flagd', 'flagd', [CompletionResultType]::ParameterValue, 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)')
            [CompletionResult]::new('unleash', 'unleash', [CompletionResultType]::ParameterValue, 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;import;help;flagd' {
            break
        }
        'flagctl;import;help;unleash' {
            break
        }
        'flagctl;import;help;help' {
            break
        }
        'flagctl;init' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;man' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Write every page (flagctl.1 and one per subcommand) into this directory instead of printing flagctl.1')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flagctl;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check flag files: schema and semantics, reported as file:line:col')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Evaluate one flag for a context and explain the answer')
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Write one environment as a self-describing bundle flagd can pull')
            [CompletionResult]::new('verify-bundle', 'verify-bundle', [CompletionResultType]::ParameterValue, 'Check a bundle the way flagd does before serving it (hash, signature, environment, compilation)')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Create an Ed25519 key pair for signing bundles (FILE and FILE.pub)')
            [CompletionResult]::new('rollout', 'rollout', [CompletionResultType]::ParameterValue, 'Steer the rollouts of a running flagd: status, pause, resume, promote, abort')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Simulate a flag over many users: variants per rollout percentage, users who switch between stages, chi-square fit of the split')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Semantic diff of two revisions, with the share of users each change moves')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Copy flags from one environment into the next on a new branch, for review')
            [CompletionResult]::new('stale', 'stale', [CompletionResultType]::ParameterValue, 'Which flags can go: evidence from git, flagd or Prometheus and code references, and a verdict (remove, review, keep) with reasons')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'Remove a flag from every environment on a new branch, listing the code to change')
            [CompletionResult]::new('experiment', 'experiment', [CompletionResultType]::ParameterValue, 'Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import flags from another tool (flagd) into an environment, reporting what cannot be translated exactly')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (or write every page with --out-dir)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flagctl;help;validate' {
            break
        }
        'flagctl;help;eval' {
            break
        }
        'flagctl;help;bundle' {
            break
        }
        'flagctl;help;verify-bundle' {
            break
        }
        'flagctl;help;keygen' {
            break
        }
        'flagctl;help;rollout' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every rollout, or one in detail')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Hold a rollout where it is')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a paused rollout')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Move to the next stage now (with --full: to 100 %)')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Roll back to 0 % until the rollout spec changes')
            break
        }
        'flagctl;help;rollout;status' {
            break
        }
        'flagctl;help;rollout;pause' {
            break
        }
        'flagctl;help;rollout;resume' {
            break
        }
        'flagctl;help;rollout;promote' {
            break
        }
        'flagctl;help;rollout;abort' {
            break
        }
        'flagctl;help;simulate' {
            break
        }
        'flagctl;help;diff' {
            break
        }
        'flagctl;help;promote' {
            break
        }
        'flagctl;help;stale' {
            break
        }
        'flagctl;help;retire' {
            break
        }
        'flagctl;help;experiment' {
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power')
            break
        }
        'flagctl;help;experiment;analyze' {
            break
        }
        'flagctl;help;import' {
            [CompletionResult]::new('flagd', 'flagd', [CompletionResultType]::ParameterValue, 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)')
            [CompletionResult]::new('unleash', 'unleash', [CompletionResultType]::ParameterValue, 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events')
            break
        }
        'flagctl;help;import;flagd' {
            break
        }
        'flagctl;help;import;unleash' {
            break
        }
        'flagctl;help;init' {
            break
        }
        'flagctl;help;completions' {
            break
        }
        'flagctl;help;man' {
            break
        }
        'flagctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
