
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
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Serve a bundle from a file (watched) or an http(s) URL (polled)')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'How often to poll the source (default 10s; git and bundle URLs are polled, directories and files are also watched)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (default 127.0.0.1:8013; port 0 picks one)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory for state: git clone, last good ruleset, rollout state and audit log (default .flagd-state)')
            [CompletionResult]::new('--metrics-url', '--metrics-url', [CompletionResultType]::ParameterName, 'Prometheus HTTP API for rollout health checks (default: flags.toml''s [metrics] prometheus)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read options from a TOML file (keys are the long option names)')
            [CompletionResult]::new('--completions', '--completions', [CompletionResultType]::ParameterName, 'Print shell completions and exit')
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
