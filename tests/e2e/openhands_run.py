"""Run the OpenHands CLI headless through tierline and the fake provider, by hand.

Not part of the test suite (OpenHands with its dependencies is a ~750 MB install that
needs Python >= 3.12); it reproduces the run behind the README's OpenHands note.

Install (outside the repository)::

    python3.12 -m venv /tmp/openhands-venv
    /tmp/openhands-venv/bin/pip install openhands==1.16.0

Run (from the repository root; ``unshare -n`` gives a loopback-only network namespace,
without root use ``unshare -r -n``; drop it and ``--netns`` to run on the host network)::

    unshare -n python3 tests/e2e/openhands_run.py /tmp/oh-run/repo --netns
    unshare -n python3 tests/e2e/openhands_run.py /tmp/oh-run2/repo --netns --protocol anthropic

Contract: like ``driver.py`` (whose helpers it uses), it starts the fake provider and
tierline (``e2e_agents.tierline_config``: one OpenAI-kind provider; ``--upstream
anthropic`` makes it Anthropic-kind) on free loopback ports in this process, queues
OpenHands' scripted turns (``file_editor`` create, a ``str_replace`` whose old text is
missing, a good ``str_replace``, ``terminal`` running ``git commit``, then ``finish``),
prepares WORKDIR (a git repository) and a private HOME beside it, and runs
``openhands --headless --json --override-with-envs -t PROMPT`` there with a timeout.
``--protocol openai`` points LiteLLM at ``openai/auto`` on ``/v1`` (Chat Completions);
``anthropic`` at ``anthropic/auto`` on tierline's root (Messages). It then checks the
repository, what reached tierline and the fake, and tierline's ``/metrics``; prints one
JSON object (the driver's fields plus ``versions`` of the installed packages and
``checks``: name -> ok) and exits 0 only when every check passed. ``--dump FILE`` writes
every inbound and upstream request in full.

Known result (openhands 1.16.0, 2026-11-22): every check passes; the failed ``str_replace``
(OpenHands starts an error result with ``[An error occurred during execution.]``) counts as
a failed edit (6 lines added, 1 removed, 2 edits accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import driver
import e2e_agents as sc
from aiohttp import ClientSession

from sidecar.app import build_app
from sidecar.config import Config
from sidecar.demo.fake_provider import FAKE_STATE, build_fake_app

VENV = Path("/tmp/openhands-venv")
TESTED = {"openhands": "1.16.0", "openhands-sdk": "1.21.0", "litellm": "1.106.2"}


def installed_versions(venv: Path) -> dict[str, str]:
    """The versions in ``venv`` of the packages in ``TESTED`` (the README names those)."""
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    argv = [str(venv / "bin" / "python"), "-c", code, *TESTED]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def openhands_replies(workdir: Path) -> list[dict[str, Any]]:
    """OpenHands' own tools: ``file_editor`` (create / str_replace), ``terminal``, ``finish``."""
    path = str(workdir / sc.FILE)
    commit = f"git add {sc.FILE} && git commit -m '{sc.COMMIT_MESSAGE}'"
    risk = {"security_risk": "LOW"}  # required by every OpenHands action tool but finish/think
    return [
        sc.tool_call("file_editor", command="create", path=path, file_text=sc.WRITTEN, **risk),
        sc.tool_call(
            "file_editor",
            command="str_replace",
            path=path,
            old_str=sc.MISSING,
            new_str=sc.EDIT_NEW,
            **risk,
        ),
        sc.tool_call(
            "file_editor",
            command="str_replace",
            path=path,
            old_str=sc.EDIT_OLD,
            new_str=sc.EDIT_NEW,
            **risk,
        ),
        sc.tool_call("terminal", command=commit, **risk),
        sc.tool_call("finish", message=sc.FINAL_TEXT),
    ]


def openhands_command(workdir: Path, venv: Path, tierline_url: str, protocol: str) -> sc.Command:
    """The tested environment: LLM_* with ``--override-with-envs``, offline switches on."""
    env = sc.base_env(workdir)
    persistence = sc.home(workdir) / ".openhands"
    if protocol == "openai":
        model, base_url = "openai/auto", tierline_url + "/v1"
    else:
        model, base_url = "anthropic/auto", tierline_url
    env.update(
        PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        LLM_MODEL=model,
        LLM_BASE_URL=base_url,
        LLM_API_KEY=sc.CLIENT_KEY,
        OPENHANDS_PERSISTENCE_DIR=str(persistence),
        OPENHANDS_WORK_DIR=str(workdir),
        OPENHANDS_SUPPRESS_BANNER="1",
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # else LiteLLM fetches its price list at import
    )
    argv = [
        str(venv / "bin" / "openhands"),
        "--headless",
        "--json",
        "--override-with-envs",
        "-t",
        sc.PROMPT,
    ]
    return argv, env


def tierline_config(fake_url: str, upstream: str) -> Config:
    """``e2e_agents.tierline_config``; ``upstream="anthropic"`` makes the fake an
    Anthropic-kind provider (tierline then speaks Messages to it)."""
    config = sc.tierline_config(fake_url)
    if upstream == "openai":
        return config
    fake = replace(config.providers["fake"], kind="anthropic", base_url=fake_url)
    return replace(config, providers={"fake": fake})


async def drive(
    workdir: Path, venv: Path, protocol: str, upstream: str, timeout: float, dump: Path | None
) -> dict[str, Any]:
    fake_app = build_fake_app(models=sc.FAKE_MODELS)
    async with driver.serving(fake_app) as fake_url:
        app = build_app(tierline_config(fake_url, upstream))
        inbound: list[dict[str, Any]] = []
        app.middlewares.append(driver.recording(inbound))
        async with driver.serving(app) as tierline_url, ClientSession() as http:
            script = {"model": sc.FAKE_MODEL, "replies": openhands_replies(workdir)}
            async with http.post(f"{fake_url}/_fake/script", json=script) as r:
                r.raise_for_status()
            argv, env = openhands_command(workdir, venv, tierline_url, protocol)
            result = await driver.run_agent(argv, env, workdir, timeout)
            async with http.get(f"{tierline_url}/metrics") as r:
                metrics = await r.text()
            async with http.get(f"{fake_url}/_fake/requests") as r:
                requests = await r.json()
            left = sum(len(q) for q in fake_app[FAKE_STATE].scripts.values())
    result["metrics"] = [line for line in metrics.splitlines() if line.startswith("tierline_")]
    result["requests"] = [driver.summarize(req) for req in requests]
    result["scripts_left"] = left
    result["inbound"] = [f"{r['method']} {r['path']}" for r in inbound]
    if dump is not None:
        dump.write_text(json.dumps({"inbound": inbound, "upstream": requests}, indent=1))
    return result


def metric(result: dict[str, Any], name: str, **labels: str) -> float:
    """Sum of the ``name`` samples whose label text contains every ``k="v"`` given."""
    total = 0.0
    for line in result["metrics"]:
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] == name and all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def git(workdir: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=workdir, capture_output=True, text=True)
    return done.stdout.strip()


def checks(result: dict[str, Any], workdir: Path, protocol: str, upstream: str) -> dict[str, bool]:
    """What the session must have done, seen from the repo, tierline and the fake."""
    target = workdir / sc.FILE
    inbound_path = "POST /v1/chat/completions" if protocol == "openai" else "POST /v1/messages"
    upstream_path = "/v1/chat/completions" if upstream == "openai" else "/v1/messages"
    posts = [i for i in result["inbound"] if i.startswith("POST ")]
    lines = "tierline_lines_of_code_count_total"
    return {
        "exited_0": result["returncode"] == 0 and not result["timed_out"],
        "file_written_and_edited": target.exists() and target.read_text() == sc.FINAL,
        "committed": git(workdir, "log", "-1", "--format=%s") == sc.COMMIT_MESSAGE,
        "finish_message_in_output": sc.FINAL_TEXT in result["stdout"],
        "inbound_protocol": bool(posts) and all(p.startswith(inbound_path) for p in posts),
        "fake_got_upstream_protocol": bool(result["requests"])
        and {r["path"] for r in result["requests"]} == {upstream_path},
        "script_consumed": result["scripts_left"] == 0,
        "lines_added": metric(result, lines, type="added", language="python") == sc.EXPECTED_ADDED,
        "lines_removed": metric(result, lines, type="removed", language="python")
        == sc.EXPECTED_REMOVED,
        "commit_counted": metric(result, "tierline_commit_count_total") == sc.EXPECTED_COMMITS,
        "edits_accepted": metric(
            result, "tierline_code_edit_tool_decision_total", decision="accept"
        )
        == sc.EXPECTED_ACCEPTED_EDITS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--venv", type=Path, default=VENV)
    parser.add_argument("--protocol", choices=("openai", "anthropic"), default="openai")
    parser.add_argument(
        "--upstream",
        choices=("openai", "anthropic"),
        default="openai",
        help="the fake provider's kind in tierline's config",
    )
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--dump", type=Path, help="write every request in full here")
    parser.add_argument("--netns", action="store_true", help="bring lo up (inside unshare -n)")
    args = parser.parse_args()
    if args.netns:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    sc.prepare_repo(args.workdir)
    result = asyncio.run(
        drive(args.workdir, args.venv, args.protocol, args.upstream, args.timeout, args.dump)
    )
    result.update(
        versions=installed_versions(args.venv),
        agent="openhands",
        protocol=args.protocol,
        upstream=args.upstream,
        netns=args.netns,
        checks=checks(result, args.workdir, args.protocol, args.upstream),
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
