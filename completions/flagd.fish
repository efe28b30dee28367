complete -c flagd -s e -l env -d 'The environment to serve' -r
complete -c flagd -l repo -d 'Serve a flags repository directory, watched for changes' -r -F
complete -c flagd -l git-url -d 'Serve a git repository (URL or local path), fetched every poll' -r
complete -c flagd -l ref -d 'With --git-url: the branch, tag or commit to follow (default: the remote\'s HEAD)' -r
complete -c flagd -l bundle -d 'Serve a bundle from a file (watched) or an http(s) URL (polled)' -r
complete -c flagd -l poll -d 'How often to poll the source (default 10s; git and bundle URLs are polled, directories and files are also watched)' -r
complete -c flagd -l listen -d 'Address to listen on (default 127.0.0.1:8013; port 0 picks one)' -r
complete -c flagd -l state-dir -d 'Directory for state: git clone, last good ruleset, rollout state and audit log (default .flagd-state)' -r -F
complete -c flagd -l metrics-url -d 'Prometheus HTTP API for rollout health checks (default: flags.toml\'s [metrics] prometheus)' -r
complete -c flagd -l log-format -d 'Log format on stderr' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object a line'"
complete -c flagd -l config -d 'Read options from a TOML file (keys are the long option names)' -r -F
complete -c flagd -l completions -d 'Print shell completions and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c flagd -l man -d 'Print the man page and exit'
complete -c flagd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flagd -s V -l version -d 'Print version'
