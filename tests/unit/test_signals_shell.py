"""Commit and pull-request detection in shell commands and their output."""

from __future__ import annotations

import pytest

from sidecar.signals.shell import (
    ShellIntent,
    commits_in_output,
    prs_in_output,
    read_command,
    split_commands,
)

CLAUDE_STYLE = """git add src/ && git commit -m "$(cat <<'EOF'
Fix the parser; don't drop "quoted" args

git commit -m "inside the message" does not count
EOF
)" """


@pytest.mark.parametrize(
    ("command", "commits", "prs"),
    [
        pytest.param("git commit -m 'x'", 1, 0, id="plain"),
        pytest.param("git -C /repo commit -am x", 1, 0, id="git -C dir"),
        pytest.param("git -c user.name=a --no-pager commit -m x", 1, 0, id="global-options"),
        pytest.param("/usr/bin/git commit -m x", 1, 0, id="full-path"),
        pytest.param("git commit --dry-run -m x", 0, 0, id="dry-run"),
        pytest.param("git commit --help", 0, 0, id="help"),
        pytest.param('echo "git commit -m x"', 0, 0, id="inside-echo"),
        pytest.param("echo git commit", 0, 0, id="echo-unquoted"),
        pytest.param("printf '%s' 'git commit'", 0, 0, id="quoted-argument"),
        pytest.param("# git commit -m x\nls", 0, 0, id="comment"),
        pytest.param("git log --grep commit", 0, 0, id="other-subcommand"),
        pytest.param("git status; git commit -m a && git push", 1, 0, id="chained"),
        pytest.param("cd /r && git add . && git commit -m a || echo fail", 1, 0, id="and-or"),
        pytest.param("git commit -m a\ngit commit --amend --no-edit", 2, 0, id="two-lines"),
        pytest.param("(cd sub && git commit -m a)", 1, 0, id="subshell"),
        pytest.param("GIT_AUTHOR_NAME=x sudo git commit -m a", 1, 0, id="prefixes"),
        pytest.param("bash -lc 'git commit -m a && gh pr create -f'", 1, 1, id="bash -lc"),
        pytest.param(CLAUDE_STYLE, 1, 0, id="heredoc-message"),
        pytest.param("git commit -m a \\\n  --no-verify", 1, 0, id="line-continuation"),
        pytest.param("gh pr create --title t --body b", 0, 1, id="gh pr create"),
        pytest.param("gh -R o/r pr create --fill", 0, 1, id="gh -R before pr"),
        pytest.param("gh pr new --fill", 0, 1, id="gh pr new"),
        pytest.param("gh pr list", 0, 0, id="gh pr list"),
        pytest.param("gh pr create --dry-run --fill", 0, 0, id="gh dry-run"),
        pytest.param("glab mr create --fill --yes", 0, 1, id="glab"),
        pytest.param("hub pull-request -m x", 0, 1, id="hub"),
        pytest.param('echo "gh pr create"', 0, 0, id="gh-inside-echo"),
        pytest.param("git push -u origin feat && gh pr create --fill", 0, 1, id="push-then-pr"),
        pytest.param("", 0, 0, id="empty"),
        pytest.param("'unterminated", 0, 0, id="unterminated-quote"),
    ],
)
def test_read_command(command: str, commits: int, prs: int) -> None:
    assert read_command(command) == ShellIntent(commits, prs)


def test_split_commands_keeps_quotes_and_substitutions_in_words() -> None:
    assert split_commands('a "b; c" $(d; e) `f; g` | h') == [
        ["a", "b; c", "$(d; e)", "`f; g`"],
        ["h"],
    ]


@pytest.mark.parametrize(
    ("output", "count"),
    [
        pytest.param("[main 1a2b3c4] Fix parser\n 1 file changed", 1, id="branch-sha"),
        pytest.param("[main (root-commit) 1a2b3c4] init\n", 1, id="root-commit"),
        pytest.param("[detached HEAD 0123abcd] x\n", 1, id="detached"),
        pytest.param("[feat/x-1 abcdef1234567] y\n[feat/x-1 1234567] z\n", 2, id="two"),
        pytest.param("On branch main\nnothing to commit, working tree clean\n", 0, id="nothing"),
        pytest.param(
            "trim trailing whitespace.................Failed\n- hook id: trailing-whitespace\n",
            0,
            id="failed-hook",
        ),
        pytest.param("error: pathspec 'x' did not match", 0, id="error"),
        pytest.param("see [main 1a2b3c4] quoted mid-line", 0, id="not-at-line-start"),
    ],
)
def test_commits_in_output(output: str, count: int) -> None:
    assert commits_in_output(output) == count


@pytest.mark.parametrize(
    ("output", "count"),
    [
        pytest.param("https://github.com/o/r/pull/42\n", 1, id="gh"),
        pytest.param(
            "Creating pull request for feat into main in o/r\n\nhttps://github.com/o/r/pull/7",
            1,
            id="gh-with-preamble",
        ),
        pytest.param(
            'a pull request for branch "feat" into branch "main" already exists:\n'
            "https://github.com/o/r/pull/7\n",
            0,
            id="already-exists",
        ),
        pytest.param("https://gitlab.com/g/p/-/merge_requests/3\n", 1, id="glab"),
        pytest.param("https://ghe.corp/o/r/pull/9 https://ghe.corp/o/r/pull/9", 1, id="dup"),
        pytest.param("pull request create failed: GraphQL: No commits", 0, id="failed"),
        pytest.param("https://github.com/o/r/issues/5", 0, id="issue-url"),
    ],
)
def test_prs_in_output(output: str, count: int) -> None:
    assert prs_in_output(output) == count


def test_huge_scripts_are_bounded() -> None:
    body = "x\n" * 50_000
    assert read_command(f"cat > big.txt <<'EOF'\n{body}EOF\ngit commit -am big") == ShellIntent(1)
    assert read_command("echo commit " + "x " * 20_000) == ShellIntent()
