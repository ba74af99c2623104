"""What each harness's tools really return, for the labelled routing cases.

The strings follow the harnesses' own formats (read off their binaries and
transcripts): Claude Code's ``Read`` numbers lines as ``     1→...``, its
``Edit`` answers "The file ... has been updated. Here's the result of running
`cat -n` on a snippet of the edited file:", a failing ``Bash`` starts with
``Exit code N``; OpenCode's ``read`` wraps ``00001| ...`` lines in
``<file>``; Codex's ``exec_command`` answers with ``Chunk ID`` / ``Wall time``
/ ``Process exited with code N`` / ``Output:``, and ``apply_patch`` with
"Success. Updated the following files:". File contents are synthesised from
the path's extension, deterministically.
"""

from __future__ import annotations

import hashlib

_BODIES = {
    ".py": [
        "from __future__ import annotations",
        "",
        "import logging",
        "from dataclasses import dataclass",
        "",
        "log = logging.getLogger(__name__)",
        "",
        "",
        "@dataclass(frozen=True)",
        "class Record:",
        "    id: int",
        "    name: str",
        "    created_at: str | None = None",
        "",
        "",
        "def load(rows: list[dict]) -> list[Record]:",
        "    out = []",
        "    for row in rows:",
        "        out.append(Record(row['id'], row['name'], row.get('created_at')))",
        "    log.debug('loaded %d records', len(out))",
        "    return out",
    ],
    ".ts": [
        "import { z } from 'zod';",
        "import { db } from '../db';",
        "",
        "export const Input = z.object({",
        "  id: z.string().uuid(),",
        "  amount: z.number().int().positive(),",
        "});",
        "",
        "export async function handle(raw: unknown) {",
        "  const input = Input.parse(raw);",
        "  const row = await db.orders.findUnique({ where: { id: input.id } });",
        "  if (!row) {",
        "    return { status: 404 };",
        "  }",
        "  return { status: 200, body: row };",
        "}",
    ],
    ".go": [
        "package metrics",
        "",
        "import (",
        '\t"context"',
        '\t"time"',
        ")",
        "",
        "type Exporter struct {",
        "\tinterval time.Duration",
        "\tsink     Sink",
        "}",
        "",
        "func (e *Exporter) Run(ctx context.Context) error {",
        "\tt := time.NewTicker(e.interval)",
        "\tdefer t.Stop()",
        "\tfor {",
        "\t\tselect {",
        "\t\tcase <-ctx.Done():",
        "\t\t\treturn ctx.Err()",
        "\t\tcase <-t.C:",
        "\t\t\te.sink.Flush()",
        "\t\t}",
        "\t}",
        "}",
    ],
    ".rs": [
        "use std::collections::HashMap;",
        "",
        "pub struct Cache<V> {",
        "    map: HashMap<String, V>,",
        "    cap: usize,",
        "}",
        "",
        "impl<V: Clone> Cache<V> {",
        "    pub fn new(cap: usize) -> Self {",
        "        Self { map: HashMap::with_capacity(cap), cap }",
        "    }",
        "",
        "    pub fn get(&self, key: &str) -> Option<V> {",
        "        self.map.get(key).cloned()",
        "    }",
        "}",
    ],
    ".sql": [
        "-- 0042: referral codes",
        "BEGIN;",
        "",
        "ALTER TABLE users ADD COLUMN referral_code text;",
        "CREATE UNIQUE INDEX CONCURRENTLY users_referral_code_idx ON users (referral_code);",
        "",
        "COMMIT;",
    ],
    ".md": [
        "# acme-api",
        "",
        "The HTTP API behind the acme dashboard.",
        "",
        "## Development",
        "",
        "```sh",
        "make dev",
        "make test",
        "```",
    ],
    ".yml": [
        "name: ci",
        "on: [push, pull_request]",
        "jobs:",
        "  test:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - run: make test",
    ],
}
_BODIES[".tsx"] = _BODIES[".ts"]
_BODIES[".js"] = _BODIES[".ts"]
_BODIES[".java"] = _BODIES[".ts"]
_BODIES[".yaml"] = _BODIES[".yml"]


def file_lines(path: str, given: str | None = None) -> list[str]:
    """The file's lines: ``given`` if it is real content, else synthesised from the extension."""
    if given and given not in ("...", "ok"):
        return given.splitlines()
    ext = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    return list(_BODIES.get(ext, _BODIES[".md"]))


def _offset(path: str) -> int:
    return 1 + int(hashlib.sha1(path.encode()).hexdigest()[:4], 16) % 120


def cc_numbered(lines: list[str], start: int = 1) -> str:
    """Claude Code's ``cat -n`` style: the number right-aligned in 6 columns, then an arrow."""
    return "\n".join(f"{i:>6}→{line}" for i, line in enumerate(lines, start))


def cc_result(tool: str, arg: str, given: str | None, error: bool, v2: bool = False) -> str:
    """A Claude Code tool_result content string (``v2``: Claude Code 2.1.x wording)."""
    if tool == "read":
        return cc_numbered(file_lines(arg, given))
    if tool == "edit":
        if given and given not in ("...", "ok"):
            return given
        if v2:
            return f"The file {arg} has been updated successfully."
        start = _offset(arg)
        snippet = cc_numbered(file_lines(arg)[:8], start)
        return (
            f"The file {arg} has been updated. Here's the result of running `cat -n` on a "
            f"snippet of the edited file:\n{snippet}"
        )
    if tool == "write":
        return f"File created successfully at: {arg}"
    if tool == "grep":
        return given if given and given not in ("...", "ok") else "No files found"
    if tool == "glob":
        return given if given and given not in ("...", "ok") else "No files found"
    if tool == "task":
        return given or "Done."
    out = given if given not in (None, "ok", "...") else ""
    if error:
        return f"Exit code 1\n{out}".rstrip()
    return out or "(Bash completed with no output)"


def oc_result(tool: str, arg: str, given: str | None, error: bool) -> str:
    """An OpenCode tool message content string."""
    if tool == "read":
        body = "\n".join(f"{i:05d}| {line}" for i, line in enumerate(file_lines(arg, given), 1))
        return f"<file>\n{body}\n\n(End of file - total {body.count(chr(10)) + 1} lines)\n</file>"
    if tool == "edit":
        return "Edit applied successfully."
    if tool == "write":
        return "Wrote file successfully."
    if tool in ("grep", "glob"):
        return given if given and given not in ("...", "ok") else "No files found"
    if tool == "task":
        return given or "Done."
    out = given if given not in (None, "ok", "...") else ""
    return out or "(no output)"


def codex_exec(command: str, given: str | None, error: bool, seed: str) -> str:
    """Codex ``exec_command`` output (unified exec)."""
    out = given if given not in (None, "ok", "...") else ""
    h = hashlib.sha1(f"{seed}/{command}".encode()).hexdigest()
    wall = 0.05 + int(h[:4], 16) % 9000 / 1000
    code = 1 if error else 0
    return (
        f"Chunk ID: {h[4:10]}\nWall time: {wall:.4f} seconds\nProcess exited with code {code}\n"
        f"Original token count: {max(1, len(out) // 4)}\nOutput:\n{out}"
    )


def codex_patch(path: str, new: bool) -> str:
    """Codex ``apply_patch`` output."""
    return f"Success. Updated the following files:\n{'A' if new else 'M'} {path}\n"
