
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
            cand --bundle 'Serve a bundle from a file (watched) or an http(s) URL (polled)'
            cand --poll 'How often to poll the source (default 10s; git and bundle URLs are polled, directories and files are also watched)'
            cand --listen 'Address to listen on (default 127.0.0.1:8013; port 0 picks one)'
            cand --state-dir 'Directory for state: git clone, last good ruleset, rollout state and audit log (default .flagd-state)'
            cand --metrics-url 'Prometheus HTTP API for rollout health checks (default: flags.toml''s [metrics] prometheus)'
            cand --log-format 'Log format on stderr'
            cand --config 'Read options from a TOML file (keys are the long option names)'
            cand --completions 'Print shell completions and exit'
            cand --man 'Print the man page and exit'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
