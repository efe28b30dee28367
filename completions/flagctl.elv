
use builtin;
use str;

set edit:completion:arg-completer[flagctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'flagctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'flagctl'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check flag files: schema and semantics, reported as file:line:col'
            cand eval 'Evaluate one flag for a context and explain the answer'
            cand bundle 'Write one environment as a self-describing bundle flagd can pull'
            cand verify-bundle 'Check a bundle the way flagd does before serving it (hash, signature, environment, compilation)'
            cand keygen 'Create an Ed25519 key pair for signing bundles (FILE and FILE.pub)'
            cand rollout 'Steer the rollouts of a running flagd: status, pause, resume, promote, abort'
            cand simulate 'Simulate a flag over many users: variants per rollout percentage, users who switch between stages, chi-square fit of the split'
            cand diff 'Semantic diff of two revisions, with the share of users each change moves'
            cand promote 'Copy flags from one environment into the next on a new branch, for review'
            cand stale 'Which flags can go: evidence from git, flagd or Prometheus and code references, and a verdict (remove, review, keep) with reasons'
            cand retire 'Remove a flag from every environment on a new branch, listing the code to change'
            cand experiment 'Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power'
            cand import 'Import flags from another tool (flagd) into an environment, reporting what cannot be translated exactly'
            cand init 'Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (or write every page with --out-dir)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;validate'= {
            cand --env 'Check only this environment'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand --strict 'Treat warnings as findings (exit 1)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;eval'= {
            cand -e 'The environment'
            cand --env 'The environment'
            cand --ctx 'A context attribute: `name=value` sets a string, `name:=json` a JSON value (`age:=42`, `beta:=true`). Repeatable'
            cand --context 'The whole context as a JSON object, or `@FILE` to read it from a file'
            cand --percentage 'The rollout''s current percentage (default: where it starts — a canary''s first stage, a linear ramp''s `from`)'
            cand --at 'Evaluate at this time: RFC 3339 (`2025-12-24T18:00:00Z`) or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;bundle'= {
            cand -e 'The environment to bundle'
            cand --env 'The environment to bundle'
            cand --rev 'Bundle a git revision (`HEAD`, a branch, a tag, a commit) instead of the working tree; the bundle then records the commit'
            cand -o 'Where to write the bundle (`-` for stdout)'
            cand --output 'Where to write the bundle (`-` for stdout)'
            cand --sign-key 'Sign the bundle with this Ed25519 private key (PKCS#8 PEM, as `flagctl keygen` writes); flagd with --bundle-public-key then accepts it'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;verify-bundle'= {
            cand --public-key 'Require a valid signature by this Ed25519 public key (PEM, as `flagctl keygen` writes FILE.pub); repeat to accept any of several, as flagd''s --bundle-public-key does'
            cand -e 'Require the bundle to be of this environment'
            cand --env 'Require the bundle to be of this environment'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;keygen'= {
            cand -o 'Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to the same path with `.pub` appended. Existing files are never replaced'
            cand --output 'Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to the same path with `.pub` appended. Existing files are never replaced'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;rollout'= {
            cand --daemon 'The flagd to talk to'
            cand --token 'Bearer token for flagd''s API (when it requires one)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand status 'Show every rollout, or one in detail'
            cand pause 'Hold a rollout where it is'
            cand resume 'Continue a paused rollout'
            cand promote 'Move to the next stage now (with --full: to 100 %)'
            cand abort 'Roll back to 0 % until the rollout spec changes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;rollout;status'= {
            cand --daemon 'The flagd to talk to'
            cand --token 'Bearer token for flagd''s API (when it requires one)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;rollout;pause'= {
            cand --daemon 'The flagd to talk to'
            cand --token 'Bearer token for flagd''s API (when it requires one)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;rollout;resume'= {
            cand --daemon 'The flagd to talk to'
            cand --token 'Bearer token for flagd''s API (when it requires one)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;rollout;promote'= {
            cand --daemon 'The flagd to talk to'
            cand --token 'Bearer token for flagd''s API (when it requires one)'
            cand --format 'Output for people (table) or scripts (json)'
            cand --full 'Go straight to the last stage'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;rollout;abort'= {
            cand --daemon 'The flagd to talk to'
            cand --token 'Bearer token for flagd''s API (when it requires one)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;rollout;help'= {
            cand status 'Show every rollout, or one in detail'
            cand pause 'Hold a rollout where it is'
            cand resume 'Continue a paused rollout'
            cand promote 'Move to the next stage now (with --full: to 100 %)'
            cand abort 'Roll back to 0 % until the rollout spec changes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;rollout;help;status'= {
        }
        &'flagctl;rollout;help;pause'= {
        }
        &'flagctl;rollout;help;resume'= {
        }
        &'flagctl;rollout;help;promote'= {
        }
        &'flagctl;rollout;help;abort'= {
        }
        &'flagctl;rollout;help;help'= {
        }
        &'flagctl;simulate'= {
            cand -e 'The environment'
            cand --env 'The environment'
            cand --percentage 'A rollout percentage to simulate (repeatable; default: each canary stage, a linear ramp''s from/step points/to, else the current state)'
            cand --users 'Number of users (default 10000; with --contexts, one per line)'
            cand --contexts 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N'
            cand --at 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;diff'= {
            cand -e 'Only this environment'
            cand --env 'Only this environment'
            cand --format 'Output for people (table), pull requests (markdown) or scripts (json)'
            cand --fail-on 'Exit 1 when the diff hits one of these policies (comma-separated)'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --users 'Number of users (default 10000; with --contexts, one per line)'
            cand --contexts 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N'
            cand --at 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;promote'= {
            cand --from 'The environment to copy from'
            cand --to 'The environment to copy into'
            cand --branch 'The branch to create (default: promote/<to>/<first flag>)'
            cand --push 'Push the branch to this remote (a name or a URL)'
            cand --users 'Number of users (default 10000; with --contexts, one per line)'
            cand --contexts 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N'
            cand --at 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;stale'= {
            cand -e 'Report on this environment (repeatable; default: all)'
            cand --env 'Report on this environment (repeatable; default: all)'
            cand --src 'Search this directory for code references (repeatable); `.gitignore` is honoured'
            cand --daemon 'Ask this flagd for rollouts and evaluation counts (of the environment it serves)'
            cand --token 'flagd''s bearer token'
            cand --prometheus 'Ask this Prometheus for evaluation counts over the window'
            cand --older-than 'Serving one variant counts once it has lasted this long; also the window evaluations are counted over'
            cand --format 'Output'
            cand --fail-on 'Exit 1 when a flag gets this verdict, or code evaluates an undefined key (comma-separated)'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;retire'= {
            cand --keep 'The variant code keeps (default: the one the flag serves everyone)'
            cand --src 'Search this directory for the code references to list (repeatable)'
            cand --daemon 'Ask this flagd whether the flag''s rollout has completed'
            cand --token 'flagd''s bearer token'
            cand --branch 'The branch to create (default: retire/<flag>)'
            cand --push 'Push the branch to this remote (a name or a URL)'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand --force 'Retire even while a rollout is not completed or an experiment runs'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;experiment'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand analyze 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;experiment;analyze'= {
            cand --data 'The counts: JSON with exposures and conversions (or sum and sumSquares) per variant, see docs/experiments.md; `-` reads stdin'
            cand --daemon 'Read exposures from a running flagd (GET /api/v1/experiments/FLAG) and conversions from Prometheus, with the flag''s `experiment.conversions` query from --env''s definition'
            cand --token 'Bearer token for flagd''s API, with --daemon (when it requires one)'
            cand --metrics-url 'The Prometheus endpoint for the `experiment.conversions` query, with --daemon (default: flags.toml''s `metrics.prometheus`)'
            cand -e 'Read the flag''s experiment settings from this environment'
            cand --env 'Read the flag''s experiment settings from this environment'
            cand --alpha 'Significance level (default: the flag''s `experiment.alpha`, else 0.05)'
            cand --mde 'Minimum detectable effect, relative: 0.05 = 5 % (default: the flag''s `experiment.minimumDetectableEffect`, else 0.05)'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;experiment;help'= {
            cand analyze 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;experiment;help;analyze'= {
        }
        &'flagctl;experiment;help;help'= {
        }
        &'flagctl;import'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand flagd 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)'
            cand unleash 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;import;flagd'= {
            cand --env 'The environment to write the flags into'
            cand --fractional 'Which of flagd''s `fractional` algorithms the flags bucket with'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;import;unleash'= {
            cand --env 'The environment to write the flags into'
            cand --repo 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)'
            cand --format 'Output for people (table) or scripts (json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;import;help'= {
            cand flagd 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)'
            cand unleash 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;import;help;flagd'= {
        }
        &'flagctl;import;help;unleash'= {
        }
        &'flagctl;import;help;help'= {
        }
        &'flagctl;init'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;man'= {
            cand --out-dir 'Write every page (flagctl.1 and one per subcommand) into this directory instead of printing flagctl.1'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flagctl;help'= {
            cand validate 'Check flag files: schema and semantics, reported as file:line:col'
            cand eval 'Evaluate one flag for a context and explain the answer'
            cand bundle 'Write one environment as a self-describing bundle flagd can pull'
            cand verify-bundle 'Check a bundle the way flagd does before serving it (hash, signature, environment, compilation)'
            cand keygen 'Create an Ed25519 key pair for signing bundles (FILE and FILE.pub)'
            cand rollout 'Steer the rollouts of a running flagd: status, pause, resume, promote, abort'
            cand simulate 'Simulate a flag over many users: variants per rollout percentage, users who switch between stages, chi-square fit of the split'
            cand diff 'Semantic diff of two revisions, with the share of users each change moves'
            cand promote 'Copy flags from one environment into the next on a new branch, for review'
            cand stale 'Which flags can go: evidence from git, flagd or Prometheus and code references, and a verdict (remove, review, keep) with reasons'
            cand retire 'Remove a flag from every environment on a new branch, listing the code to change'
            cand experiment 'Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power'
            cand import 'Import flags from another tool (flagd) into an environment, reporting what cannot be translated exactly'
            cand init 'Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (or write every page with --out-dir)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flagctl;help;validate'= {
        }
        &'flagctl;help;eval'= {
        }
        &'flagctl;help;bundle'= {
        }
        &'flagctl;help;verify-bundle'= {
        }
        &'flagctl;help;keygen'= {
        }
        &'flagctl;help;rollout'= {
            cand status 'Show every rollout, or one in detail'
            cand pause 'Hold a rollout where it is'
            cand resume 'Continue a paused rollout'
            cand promote 'Move to the next stage now (with --full: to 100 %)'
            cand abort 'Roll back to 0 % until the rollout spec changes'
        }
        &'flagctl;help;rollout;status'= {
        }
        &'flagctl;help;rollout;pause'= {
        }
        &'flagctl;help;rollout;resume'= {
        }
        &'flagctl;help;rollout;promote'= {
        }
        &'flagctl;help;rollout;abort'= {
        }
        &'flagctl;help;simulate'= {
        }
        &'flagctl;help;diff'= {
        }
        &'flagctl;help;promote'= {
        }
        &'flagctl;help;stale'= {
        }
        &'flagctl;help;retire'= {
        }
        &'flagctl;help;experiment'= {
            cand analyze 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power'
        }
        &'flagctl;help;experiment;analyze'= {
        }
        &'flagctl;help;import'= {
            cand flagd 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)'
            cand unleash 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events'
        }
        &'flagctl;help;import;flagd'= {
        }
        &'flagctl;help;import;unleash'= {
        }
        &'flagctl;help;init'= {
        }
        &'flagctl;help;completions'= {
        }
        &'flagctl;help;man'= {
        }
        &'flagctl;help;help'= {
        }
    ]
    $completions[$command]
}
