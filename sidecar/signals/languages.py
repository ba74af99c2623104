"""Language of a file from its extension (or its well-known name).

Values are short lower-case ids (bounded: they become metric labels);
anything unrecognised is ``"other"``. ``display_language`` maps an id to the
capitalised form Claude Code puts on its own metrics (``"unknown"`` for
``"other"``) for the ``claude_code`` compatibility series.
"""

from __future__ import annotations

import posixpath

__all__ = ["OTHER", "display_language", "language_of"]

OTHER = "other"

_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python", ".pyx": "python",
    ".ipynb": "jupyter",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "typescript",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".sc": "scala", ".groovy": "groovy", ".gradle": "groovy",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".cs": "csharp", ".fs": "fsharp", ".fsx": "fsharp",
    ".swift": "swift", ".m": "objective-c", ".mm": "objective-c",
    ".rb": "ruby", ".rake": "ruby", ".php": "php", ".pl": "perl", ".pm": "perl",
    ".lua": "lua", ".r": "r", ".jl": "julia", ".dart": "dart",
    ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".hrl": "erlang",
    ".hs": "haskell", ".ml": "ocaml", ".mli": "ocaml", ".clj": "clojure", ".cljs": "clojure",
    ".elm": "elm", ".zig": "zig", ".nim": "nim", ".v": "verilog", ".sv": "verilog",
    ".vhd": "vhdl", ".sol": "solidity",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".fish": "shell",
    ".ps1": "powershell", ".bat": "batch", ".cmd": "batch",
    ".sql": "sql", ".prisma": "prisma", ".graphql": "graphql", ".gql": "graphql",
    ".proto": "protobuf",
    ".html": "html", ".htm": "html", ".css": "css", ".scss": "scss", ".sass": "scss",
    ".less": "less", ".vue": "vue", ".svelte": "svelte", ".astro": "astro",
    ".json": "json", ".jsonc": "json", ".json5": "json", ".yaml": "yaml", ".yml": "yaml",
    ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".xml": "xml", ".csv": "csv",
    ".md": "markdown", ".mdx": "markdown", ".rst": "restructuredtext", ".tex": "latex",
    ".txt": "text", ".tf": "terraform", ".hcl": "terraform", ".nix": "nix",
    ".cmake": "cmake", ".mk": "makefile", ".dockerfile": "dockerfile",
}

_NAMES: dict[str, str] = {
    "dockerfile": "dockerfile", "containerfile": "dockerfile", "makefile": "makefile",
    "gnumakefile": "makefile", "cmakelists.txt": "cmake", "gemfile": "ruby",
    "rakefile": "ruby", "justfile": "makefile", "jenkinsfile": "groovy",
}

_DISPLAY: dict[str, str] = {
    "javascript": "JavaScript", "typescript": "TypeScript", "csharp": "C#", "cpp": "C++",
    "fsharp": "F#", "objective-c": "Objective-C", "php": "PHP", "sql": "SQL", "html": "HTML",
    "css": "CSS", "scss": "SCSS", "json": "JSON", "yaml": "YAML", "toml": "TOML",
    "xml": "XML", "csv": "CSV", "ini": "INI", "graphql": "GraphQL", "ocaml": "OCaml",
    "powershell": "PowerShell", "latex": "LaTeX", "restructuredtext": "reStructuredText",
    "vhdl": "VHDL", "hcl": "HCL", "protobuf": "Protocol Buffers", "cmake": "CMake",
    "makefile": "Makefile", "dockerfile": "Dockerfile", "other": "unknown",
}


def language_of(path: str) -> str:
    """Language id for ``path`` (any OS separators); ``"other"`` when unknown."""
    name = posixpath.basename(path.replace("\\", "/")).lower()
    if not name:
        return OTHER
    by_name = _NAMES.get(name)
    if by_name is not None:
        return by_name
    dot = name.rfind(".")
    if dot <= 0:
        return OTHER
    return _EXTENSIONS.get(name[dot:], OTHER)


def display_language(language: str) -> str:
    """The capitalised name Claude Code uses for ``language`` (``other`` -> ``unknown``)."""
    return _DISPLAY.get(language, language[:1].upper() + language[1:])
