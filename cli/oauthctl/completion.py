"""Shell completion scripts, written from the command tree itself so they never fall behind:
`source <(oauthctl completion bash)`, or for zsh `source <(oauthctl completion zsh)`."""

from __future__ import annotations

import argparse


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    )


def tree(parser: argparse.ArgumentParser) -> dict[str, dict[str, list[str]]]:
    """group -> command -> its options ("" for a group that is itself a command: smoke)."""
    found: dict[str, dict[str, list[str]]] = {}
    for name, group in _subcommands(parser).items():
        commands = _subcommands(group)
        if commands:
            found[name] = {command: _options(sub) for command, sub in commands.items()}
        else:
            found[name] = {"": _options(group)}
    return found


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    commands = tree(parser)
    cases = []
    for group, inner in sorted(commands.items()):
        names = " ".join(sorted(c for c in inner if c))
        option_cases = "".join(
            f'            {command or "*"}) opts="{" ".join(options)}" ;;\n'
            for command, options in sorted(inner.items())
        )
        cases.append(
            f"        {group})\n"
            f'            if [ "$n" -eq 2 ] && [ -n "{names}" ]; then opts="{names}"; else\n'
            f'            case "$cmd" in\n{option_cases}            esac; fi ;;\n'
        )
    top = " ".join(sorted(commands)) + " " + " ".join(_options(parser))
    body = f"""_oauthctl() {{
    local cur words n group cmd opts skip
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    words=(); skip=0
    for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        if [ "$skip" -eq 1 ]; then skip=0; continue; fi
        case "$w" in --stack|--endpoint-url|--region) skip=1 ;; -*) ;; *) words+=("$w") ;; esac
    done
    n=$(( ${{#words[@]}} + 1 ))
    group="${{words[0]}}"; cmd="${{words[1]}}"
    if [ "$n" -eq 1 ]; then opts="{top}"; else
    case "$group" in
{"".join(cases)}        *) opts="" ;;
    esac; fi
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}}
complete -F _oauthctl oauthctl
"""
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + body
    return body
