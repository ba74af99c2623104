"""Line counting: text diffs, unified diffs, Codex patches, SEARCH/REPLACE blocks."""

from __future__ import annotations

import pytest

from sidecar.signals.languages import display_language, language_of
from sidecar.signals.lines import (
    FileChange,
    count_added,
    diff_counts,
    parse_codex_patch,
    parse_search_replace,
    parse_unified_diff,
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("a\nb\nc\n", "a\nB\nc\n", (1, 1), id="changed-line-is-one-each"),
        pytest.param("a\nb\n", "a\nb\nc\nd\n", (2, 0), id="appended"),
        pytest.param("a\nb\nc\n", "a\nc\n", (0, 1), id="deleted"),
        pytest.param("a\nb", "a\nb\n", (0, 0), id="only-final-newline"),
        pytest.param("a\nb\n", "a\nb", (0, 0), id="final-newline-removed"),
        pytest.param("a\r\nb\r\n", "a\nb\n", (0, 0), id="crlf-vs-lf-same-lines"),
        pytest.param("a\r\nb\r\n", "a\r\nX\r\n", (1, 1), id="crlf-is-one-break"),
        pytest.param("", "x\ny\n", (2, 0), id="from-empty"),
        pytest.param("x\ny\n", "", (0, 2), id="to-empty"),
        pytest.param("", "", (0, 0), id="both-empty"),
        pytest.param("same\n", "same\n", (0, 0), id="identical"),
        pytest.param("a\nb\nc\nd\ne\n", "a\nc\nX\nd\nY\ne\n", (2, 1), id="interleaved"),
        pytest.param("x = 1", "x  = 1", (1, 1), id="whitespace-inside-a-line"),
    ],
)
def test_diff_counts(old: str, new: str, expected: tuple[int, int]) -> None:
    assert diff_counts(old, new) == expected


def test_diff_counts_large_input_is_bounded_and_sane() -> None:
    old = "".join(f"line {i}\n" for i in range(5000))
    new = "".join(f"LINE {i}\n" for i in range(5000))
    assert diff_counts(old, new) == (5000, 5000)
    # common prefix/suffix never count, however big
    assert diff_counts(old, old.replace("line 2500\n", "changed\n")) == (1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a\nb\nc", 3), ("a\nb\nc\n", 3), ("a\r\nb\r\n", 2), ("", 0), ("\n", 1), ("x", 1)],
)
def test_count_added(text: str, expected: int) -> None:
    assert count_added(text) == expected


MULTI_HUNK = "\n".join(
    [
        "diff --git a/src/app.py b/src/app.py",
        "index 1111111..2222222 100644",
        "--- a/src/app.py",
        "+++ b/src/app.py",
        "@@ -1,4 +1,4 @@",
        " import os",
        "-import sys",
        "+import json",
        " ",  # a blank context line
        " def main():",
        "@@ -10,3 +10,5 @@ def main():",
        "     x = 1",
        "+    y = 2",
        "+    z = 3",
        "     return x",
        "",
    ]
)

DASHES_INSIDE_HUNK = """\
--- a/notes.md
+++ b/notes.md
@@ -1,3 +1,3 @@
 title
--- old rule
+++ new rule
 end
"""

NEW_FILE = """\
diff --git a/web/new.ts b/web/new.ts
new file mode 100644
--- /dev/null
+++ b/web/new.ts
@@ -0,0 +1,3 @@
+export const a = 1;
+export const b = 2;
+export const c = 3;
"""

DELETED_FILE = """\
--- a/old.go
+++ /dev/null
@@ -1,2 +0,0 @@
-package old
-func X() {}
"""

TWO_FILES = """\
--- a/a.py
+++ b/a.py
@@ -1 +1 @@
-x = 1
+x = 2
--- a/b.rs
+++ b/b.rs
@@ -1,2 +1,3 @@
 fn main() {
+    println!("hi");
 }
"""

BARE_HUNKS = """\
--- a/a.py
+++ b/a.py
@@
-x = 1
+x = 2
--- a/b.py
+++ b/b.py
@@
+y = 3
"""


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param(MULTI_HUNK, (FileChange("src/app.py", 3, 1),), id="multi-hunk"),
        pytest.param(
            DASHES_INSIDE_HUNK, (FileChange("notes.md", 1, 1),), id="dash-lines-inside-hunk"
        ),
        pytest.param(NEW_FILE, (FileChange("web/new.ts", 3, 0),), id="new-file"),
        pytest.param(DELETED_FILE, (FileChange("old.go", 0, 2),), id="deleted-file"),
        pytest.param(
            TWO_FILES, (FileChange("a.py", 1, 1), FileChange("b.rs", 1, 0)), id="two-files"
        ),
        pytest.param(
            BARE_HUNKS, (FileChange("a.py", 1, 1), FileChange("b.py", 1, 0)), id="bare-@@"
        ),
        pytest.param("", (), id="empty"),
        pytest.param("not a diff at all\n+ hi\n", (), id="garbage"),
    ],
)
def test_unified_diff(patch: str, expected: tuple[FileChange, ...]) -> None:
    assert parse_unified_diff(patch) == expected


CODEX = """\
*** Begin Patch
*** Add File: docs/hello.md
+# Hello
+
+World
*** Update File: src/app.py
@@ def greet():
-    print("Hi")
+    print("Hello")
+    print("world")
@@ class X:
     pass
--- this is a removed line that looks like a header
*** Delete File: obsolete.txt
*** Update File: src/old_name.rs
*** Move to: src/new_name.rs
@@
-fn a() {}
+fn b() {}
*** End of File
*** End Patch
"""


def test_codex_patch_add_update_delete_move() -> None:
    assert parse_codex_patch(CODEX) == (
        FileChange("docs/hello.md", 3, 0),
        FileChange("src/app.py", 2, 2),
        FileChange("obsolete.txt", 0, 0),
        FileChange("src/new_name.rs", 1, 1),
    )


def test_codex_patch_ignores_text_outside_the_envelope() -> None:
    text = "+not counted\n" + CODEX + "-not counted either\n"
    assert sum(c.added for c in parse_codex_patch(text)) == 6


def test_search_replace_blocks_aider_and_cline_markers() -> None:
    text = (
        "x.py\n```python\n<<<<<<< SEARCH\na\nb\n=======\na\nc\nd\n>>>>>>> REPLACE\n```\n"
        "------- SEARCH\nold\n=======\nnew\n+++++++ REPLACE\n"
        "<<<<<<< SEARCH\nunterminated\n=======\n"
    )
    blocks = parse_search_replace(text)
    assert [(s, r) for _, s, r in blocks] == [("a\nb", "a\nc\nd"), ("old", "new")]
    assert blocks[0][0] == 2


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("/repo/src/app.py", "python"),
        ("C:\\work\\Main.java", "java"),
        ("web/App.TSX", "typescript"),
        ("lib/x.rs", "rust"),
        ("Dockerfile", "dockerfile"),
        ("deploy/values.yaml", "yaml"),
        ("README", "other"),
        (".bashrc", "other"),
        ("a/b.unknownext", "other"),
        ("", "other"),
    ],
)
def test_language_of(path: str, language: str) -> None:
    assert language_of(path) == language


def test_language_table_is_large_and_display_names_follow_claude_code() -> None:
    from sidecar.signals import languages

    assert len(languages._EXTENSIONS) >= 40
    assert display_language("python") == "Python"
    assert display_language("typescript") == "TypeScript"
    assert display_language("other") == "unknown"
