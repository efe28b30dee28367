# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_flagctl_global_optspecs
    string join \n h/help V/version
end

function __fish_flagctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_flagctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_flagctl_using_subcommand
    set -l cmd (__fish_flagctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c flagctl -n "__fish_flagctl_needs_command" -s h -l help -d 'Print help'
complete -c flagctl -n "__fish_flagctl_needs_command" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "validate" -d 'Check flag files: schema and semantics, reported as file:line:col'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "eval" -d 'Evaluate one flag for a context and explain the answer'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "bundle" -d 'Write one environment as a self-describing bundle flagd can pull'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "verify-bundle" -d 'Check a bundle the way flagd does before serving it (hash, signature, environment, compilation)'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "keygen" -d 'Create an Ed25519 key pair for signing bundles (FILE and FILE.pub)'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "rollout" -d 'Steer the rollouts of a running flagd: status, pause, resume, promote, abort'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "simulate" -d 'Simulate a flag over many users: variants per rollout percentage, users who switch between stages, chi-square fit of the split'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "diff" -d 'Semantic diff of two revisions, with the share of users each change moves'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "promote" -d 'Copy flags from one environment into the next on a new branch, for review'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "stale" -d 'Which flags can go: evidence from git, flagd or Prometheus and code references, and a verdict (remove, review, keep) with reasons'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "retire" -d 'Remove a flag from every environment on a new branch, listing the code to change'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "experiment" -d 'Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "import" -d 'Import flags from another tool (flagd) into an environment, reporting what cannot be translated exactly'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "init" -d 'Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "man" -d 'Print the man page (or write every page with --out-dir)'
complete -c flagctl -n "__fish_flagctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand validate" -l env -d 'Check only this environment' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand validate" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand validate" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand validate" -l strict -d 'Treat warnings as findings (exit 1)'
complete -c flagctl -n "__fish_flagctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -s e -l env -d 'The environment' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -l ctx -d 'A context attribute: `name=value` sets a string, `name:=json` a JSON value (`age:=42`, `beta:=true`). Repeatable' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -l context -d 'The whole context as a JSON object, or `@FILE` to read it from a file' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -l percentage -d 'The rollout\'s current percentage (default: where it starts — a canary\'s first stage, a linear ramp\'s `from`)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -l at -d 'Evaluate at this time: RFC 3339 (`2025-12-24T18:00:00Z`) or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand eval" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -s e -l env -d 'The environment to bundle' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -l rev -d 'Bundle a git revision (`HEAD`, a branch, a tag, a commit) instead of the working tree; the bundle then records the commit' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -s o -l output -d 'Where to write the bundle (`-` for stdout)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -l sign-key -d 'Sign the bundle with this Ed25519 private key (PKCS#8 PEM, as `flagctl keygen` writes); flagd with --bundle-public-key then accepts it' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand bundle" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand verify-bundle" -l public-key -d 'Require a valid signature by this Ed25519 public key (PEM, as `flagctl keygen` writes FILE.pub); repeat to accept any of several, as flagd\'s --bundle-public-key does' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand verify-bundle" -s e -l env -d 'Require the bundle to be of this environment' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand verify-bundle" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand verify-bundle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand verify-bundle" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand keygen" -s o -l output -d 'Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to the same path with `.pub` appended. Existing files are never replaced' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand keygen" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand keygen" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -l daemon -d 'The flagd to talk to' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -l token -d 'Bearer token for flagd\'s API (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -f -a "status" -d 'Show every rollout, or one in detail'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -f -a "pause" -d 'Hold a rollout where it is'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -f -a "resume" -d 'Continue a paused rollout'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -f -a "promote" -d 'Move to the next stage now (with --full: to 100 %)'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -f -a "abort" -d 'Roll back to 0 % until the rollout spec changes'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and not __fish_seen_subcommand_from status pause resume promote abort help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from status" -l daemon -d 'The flagd to talk to' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from status" -l token -d 'Bearer token for flagd\'s API (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from status" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l daemon -d 'The flagd to talk to' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l token -d 'Bearer token for flagd\'s API (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l daemon -d 'The flagd to talk to' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l token -d 'Bearer token for flagd\'s API (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from promote" -l daemon -d 'The flagd to talk to' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from promote" -l token -d 'Bearer token for flagd\'s API (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from promote" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from promote" -l full -d 'Go straight to the last stage'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from promote" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from abort" -l daemon -d 'The flagd to talk to' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from abort" -l token -d 'Bearer token for flagd\'s API (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from abort" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from abort" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from abort" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show every rollout, or one in detail'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Hold a rollout where it is'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Continue a paused rollout'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Move to the next stage now (with --full: to 100 %)'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "abort" -d 'Roll back to 0 % until the rollout spec changes'
complete -c flagctl -n "__fish_flagctl_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -s e -l env -d 'The environment' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -l percentage -d 'A rollout percentage to simulate (repeatable; default: each canary stage, a linear ramp\'s from/step points/to, else the current state)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -l users -d 'Number of users (default 10000; with --contexts, one per line)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -l contexts -d 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -l at -d 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand simulate" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -s e -l env -d 'Only this environment' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -l format -d 'Output for people (table), pull requests (markdown) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
markdown\t'A pull-request comment'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -l fail-on -d 'Exit 1 when the diff hits one of these policies (comma-separated)' -r -f -a "removed-flag\t'A flag is removed from an environment'
unguarded-exposure\t'A protected environment serves users a new variant (not offVariant) without a rollout'
type-change\t'A flag\'s type changes'
reshuffle\t'A salt, bucketBy or bucketing changes, reshuffling users'
client-exposure\t'A flag becomes visible to client-side SDKs (clientSide)'"
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -l users -d 'Number of users (default 10000; with --contexts, one per line)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -l contexts -d 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -l at -d 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand diff" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l from -d 'The environment to copy from' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l to -d 'The environment to copy into' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l branch -d 'The branch to create (default: promote/<to>/<first flag>)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l push -d 'Push the branch to this remote (a name or a URL)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l users -d 'Number of users (default 10000; with --contexts, one per line)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l contexts -d 'Contexts to evaluate, one JSON object per line. With --users N the first N lines are used, or the lines repeat (with fresh keys) to reach N' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l at -d 'Evaluate at this time: RFC 3339 or a zoned time (`2025-12-24T18:00[America/New_York]`). Default: now' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand promote" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -s e -l env -d 'Report on this environment (repeatable; default: all)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l src -d 'Search this directory for code references (repeatable); `.gitignore` is honoured' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l daemon -d 'Ask this flagd for rollouts and evaluation counts (of the environment it serves)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l token -d 'flagd\'s bearer token' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l prometheus -d 'Ask this Prometheus for evaluation counts over the window' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l older-than -d 'Serving one variant counts once it has lasted this long; also the window evaluations are counted over' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l format -d 'Output' -r -f -a "table\t'Aligned text for terminals'
markdown\t'A pull-request comment or a weekly report'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l fail-on -d 'Exit 1 when a flag gets this verdict, or code evaluates an undefined key (comma-separated)' -r -f -a "remove\t'A flag\'s verdict is `remove`'
review\t'A flag\'s verdict is `review` or `remove`'
undefined\t'Code evaluates a key no environment defines'"
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand stale" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l keep -d 'The variant code keeps (default: the one the flag serves everyone)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l src -d 'Search this directory for the code references to list (repeatable)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l daemon -d 'Ask this flagd whether the flag\'s rollout has completed' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l token -d 'flagd\'s bearer token' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l branch -d 'The branch to create (default: retire/<flag>)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l push -d 'Push the branch to this remote (a name or a URL)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -l force -d 'Retire even while a rollout is not completed or an experiment runs'
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand retire" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and not __fish_seen_subcommand_from analyze help" -s h -l help -d 'Print help'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and not __fish_seen_subcommand_from analyze help" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and not __fish_seen_subcommand_from analyze help" -f -a "analyze" -d 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and not __fish_seen_subcommand_from analyze help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l data -d 'The counts: JSON with exposures and conversions (or sum and sumSquares) per variant, see docs/experiments.md; `-` reads stdin' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l daemon -d 'Read exposures from a running flagd (GET /api/v1/experiments/FLAG) and conversions from Prometheus, with the flag\'s `experiment.conversions` query from --env\'s definition' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l token -d 'Bearer token for flagd\'s API, with --daemon (when it requires one)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l metrics-url -d 'The Prometheus endpoint for the `experiment.conversions` query, with --daemon (default: flags.toml\'s `metrics.prometheus`)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -s e -l env -d 'Read the flag\'s experiment settings from this environment' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l alpha -d 'Significance level (default: the flag\'s `experiment.alpha`, else 0.05)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l mde -d 'Minimum detectable effect, relative: 0.05 = 5 % (default: the flag\'s `experiment.minimumDetectableEffect`, else 0.05)' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from analyze" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from help" -f -a "analyze" -d 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power'
complete -c flagctl -n "__fish_flagctl_using_subcommand experiment; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and not __fish_seen_subcommand_from flagd unleash help" -s h -l help -d 'Print help'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and not __fish_seen_subcommand_from flagd unleash help" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and not __fish_seen_subcommand_from flagd unleash help" -f -a "flagd" -d 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and not __fish_seen_subcommand_from flagd unleash help" -f -a "unleash" -d 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and not __fish_seen_subcommand_from flagd unleash help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from flagd" -l env -d 'The environment to write the flags into' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from flagd" -l fractional -d 'Which of flagd\'s `fractional` algorithms the flags bucket with' -r -f -a "v1\t'flagd\'s legacy `fractional` (`bucketing: flagd-v1`)'
v2\t'flagd\'s current `fractional` (`bucketing: flagd-v2`)'"
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from flagd" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from flagd" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from flagd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from flagd" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from unleash" -l env -d 'The environment to write the flags into' -r
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from unleash" -l repo -d 'The flags repository (default: the nearest directory upwards holding flags.toml, else the git root, else `.`)' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from unleash" -l format -d 'Output for people (table) or scripts (json)' -r -f -a "table\t'Aligned text for terminals'
json\t'One JSON document for scripts'"
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from unleash" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from unleash" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "flagd" -d 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "unleash" -d 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events'
complete -c flagctl -n "__fish_flagctl_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand init" -s h -l help -d 'Print help'
complete -c flagctl -n "__fish_flagctl_using_subcommand init" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c flagctl -n "__fish_flagctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand man" -l out-dir -d 'Write every page (flagctl.1 and one per subcommand) into this directory instead of printing flagctl.1' -r -F
complete -c flagctl -n "__fish_flagctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c flagctl -n "__fish_flagctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "validate" -d 'Check flag files: schema and semantics, reported as file:line:col'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "eval" -d 'Evaluate one flag for a context and explain the answer'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "bundle" -d 'Write one environment as a self-describing bundle flagd can pull'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "verify-bundle" -d 'Check a bundle the way flagd does before serving it (hash, signature, environment, compilation)'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "keygen" -d 'Create an Ed25519 key pair for signing bundles (FILE and FILE.pub)'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "rollout" -d 'Steer the rollouts of a running flagd: status, pause, resume, promote, abort'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "simulate" -d 'Simulate a flag over many users: variants per rollout percentage, users who switch between stages, chi-square fit of the split'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "diff" -d 'Semantic diff of two revisions, with the share of users each change moves'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "promote" -d 'Copy flags from one environment into the next on a new branch, for review'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "stale" -d 'Which flags can go: evidence from git, flagd or Prometheus and code references, and a verdict (remove, review, keep) with reasons'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "retire" -d 'Remove a flag from every environment on a new branch, listing the code to change'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "experiment" -d 'Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "import" -d 'Import flags from another tool (flagd) into an environment, reporting what cannot be translated exactly'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "init" -d 'Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "man" -d 'Print the man page (or write every page with --out-dir)'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and not __fish_seen_subcommand_from validate eval bundle verify-bundle keygen rollout simulate diff promote stale retire experiment import init completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "status" -d 'Show every rollout, or one in detail'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "pause" -d 'Hold a rollout where it is'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "resume" -d 'Continue a paused rollout'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "promote" -d 'Move to the next stage now (with --full: to 100 %)'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "abort" -d 'Roll back to 0 % until the rollout spec changes'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from experiment" -f -a "analyze" -d 'Analyse an A/B/n experiment: rate or mean per variant with intervals, lift, p-values (Holm-adjusted and always-valid sequential), an overall test, the sample-ratio-mismatch check and power'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "flagd" -d 'flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`)'
complete -c flagctl -n "__fish_flagctl_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "unleash" -d 'Unleash features: an export (`features-batch/export`), a client-API features document (`/api/client/features`) or delta-API events'
