"""The ``tierline`` command: argparse wiring only.

Each subcommand is one ``_add_NAME(sub, common)`` function registering its
parser and a handler ``(args) -> exit code``; the handler imports the module
doing the work lazily, so ``tierline --version`` stays fast. To add a command,
write its ``_add_`` function and list it in ``_SUBCOMMANDS``.

Exit codes: 0 ok, 1 a user error (invalid configuration, unreadable file),
2 bad command line (argparse), 130 interrupted. User errors print a message,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sidecar import __version__
from sidecar.config import ConfigError

if TYPE_CHECKING:
    from sidecar.config import Config

Register = Callable[[Any, argparse.ArgumentParser], None]
_LOG_LEVELS = ("debug", "info", "warning", "error")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    from sidecar.logs import configure_logging

    # Defaults are applied here, not in argparse: the option objects are shared
    # between the main parser and the subparsers (parents=), so a parser default
    # would let the subcommand's default overwrite an option given before it.
    level = getattr(args, "log_level", None) or os.environ.get("TIERLINE_LOG_LEVEL") or "info"
    fmt = getattr(args, "log_format", None) or os.environ.get("TIERLINE_LOG_FORMAT") or "json"
    if fmt.lower() not in ("json", "text"):
        print(f"tierline: TIERLINE_LOG_FORMAT must be json or text (got {fmt!r})", file=sys.stderr)
        return 2
    if level.lower() not in _LOG_LEVELS:
        print(
            f"tierline: TIERLINE_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)} (got {level!r})",
            file=sys.stderr,
        )
        return 2
    configure_logging(level, "text" if fmt.lower() == "text" else "json")
    try:
        return handler(args)
    except ConfigError as exc:
        _print_config_errors(exc)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The full parser; global options are accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level",
        choices=_LOG_LEVELS,
        type=str.lower,
        default=argparse.SUPPRESS,
        help="log threshold (env TIERLINE_LOG_LEVEL; default info)",
    )
    common.add_argument(
        "--log-format",
        choices=("json", "text"),
        default=argparse.SUPPRESS,
        help="one JSON object per line, or text for people (env TIERLINE_LOG_FORMAT; default json)",
    )
    parser = argparse.ArgumentParser(
        prog="tierline",
        description="An LLM routing sidecar for coding agents.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"tierline {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in _SUBCOMMANDS:
        register(sub, common)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="TOML configuration (default: $TIERLINE_CONFIG)"
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535 (got {value})")
    return value


def _load(args: argparse.Namespace) -> Config:
    """Load ``--config`` (or $TIERLINE_CONFIG) and log its warnings."""
    import logging

    from sidecar.config import load_config

    config = load_config(args.config)
    log = logging.getLogger("tierline.config")
    for path, reason in config.warnings:
        log.warning("%s: %s", path, reason, extra={"key": path})
    return config


def _print_config_errors(exc: ConfigError) -> None:
    count = len(exc.errors)
    print(
        f"tierline: invalid configuration ({count} error{'s' if count != 1 else ''}):",
        file=sys.stderr,
    )
    for path, reason in exc.errors:
        print(f"  {path}: {reason}", file=sys.stderr)


# ---- serve ----


def _add_serve(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="run the proxy")
    _config_option(p)
    p.add_argument("--host", help="listen address (overrides server.host)")
    p.add_argument("--port", type=_port, help="listen port (overrides server.port)")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import dataclasses

    config = _load(args)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        server = dataclasses.replace(config.server, **overrides)
        config = dataclasses.replace(config, server=server)
    from sidecar.app import serve

    try:
        serve(config)
    except OSError as exc:  # typically the port is taken or the address is not local
        where = f"{config.server.host}:{config.server.port}"
        print(f"tierline: cannot serve on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


# ---- check ----


def _add_check(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("check", parents=[common], help="validate a configuration file")
    _config_option(p)
    p.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from sidecar.cli_report import check_summary

    config = _load(args)
    print(check_summary(config))
    return 0


# ---- models ----


def _add_models(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "models",
        parents=[common],
        help="list the configured models (no config: the catalog ranking)",
    )
    _config_option(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--tiers", action="store_true", help="only the ranking per tier")
    p.set_defaults(handler=_models)


def _models(args: argparse.Namespace) -> int:
    from sidecar.cli_report import models_json, models_table
    from sidecar.config import Config
    from sidecar.routing.explain import ranking

    if not (args.config or os.environ.get("TIERLINE_CONFIG")):
        # No configuration: the shipped catalog's ranking per tier, nothing available.
        if not args.json:
            print("no configuration (--config FILE or TIERLINE_CONFIG): the shipped catalog,")
            print("no provider configured, so no model is available")
        print(ranking(Config(), as_json=args.json).lstrip("\n"))
        return 0
    config = _load(args)
    if args.tiers:
        print(ranking(config, as_json=args.json).lstrip("\n"))
        return 0
    print(models_json(config) if args.json else models_table(config) + "\n" + ranking(config))
    return 0


# ---- explain ----


def _add_explain(sub: Any, common: argparse.ArgumentParser) -> None:
    from sidecar.routing.explain import add_arguments

    p = sub.add_parser("explain", parents=[common], help="the routing decision for a request")
    _config_option(p)
    add_arguments(p)
    p.set_defaults(handler=_explain)


def _explain(args: argparse.Namespace) -> int:
    from sidecar.routing.explain import run_explain

    return run_explain(_load(args), args)


# ---- demo ----


def _add_demo(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo", parents=[common], help="play a scripted agent session against a fake provider"
    )
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from sidecar.demo.run import run_demo

    return run_demo(quiet=(getattr(args, "log_level", None) or "") != "debug")


# ---- webhook ----


def _add_webhook(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "webhook", parents=[common], help="serve the Kubernetes sidecar-injection webhook"
    )
    p.add_argument("--cert", required=True, metavar="FILE", help="TLS certificate (PEM)")
    p.add_argument("--key", required=True, metavar="FILE", help="TLS private key (PEM)")
    p.add_argument("--host", default="0.0.0.0", help="listen address (default 0.0.0.0)")
    p.add_argument("--port", type=_port, default=8443, help="listen port (default 8443)")
    p.add_argument("--settings", metavar="FILE", help="JSON: what to inject (image, ports, ...)")
    p.set_defaults(handler=_webhook)


def _webhook(args: argparse.Namespace) -> int:
    from sidecar.webhook import run

    return run(args)


_SUBCOMMANDS: tuple[Register, ...] = (
    _add_serve,
    _add_check,
    _add_models,
    _add_explain,
    _add_demo,
    _add_webhook,
)
