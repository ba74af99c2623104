# ruff: noqa: E501  (case texts are data: one request per line reads best)
"""Second batch of labelled routing cases (batch "v2"), written after the audit of 2026-11-21
and never shown to the classifier's author: multi-turn sessions as the harnesses send them,
with real tool output (outputs_real.py), phase-dependent follow-ups, ambiguous phrasing,
background requests, huge contexts. Labels follow tests/routing/cases/README.md."""

from __future__ import annotations

from typing import Any

import outputs_real as o
from harness_shapes import (
    CC_EXPLORE_SYSTEM,
    CC_SUMMARY_USER,
    CC_TASK_SYSTEM,
    CC_TOPIC_SYSTEM,
    OC_SUMMARY_USER,
    OC_TITLE_SYSTEM,
    A,
    T,
    Turn,
    U,
    aider,
    claude_code,
    claude_code2,
    codex,
    opencode,
    sdk_anthropic,
    sdk_openai,
)

R, C, Q = "reasoning", "coding", "quick"
Req = tuple[str, dict[str, str], dict[str, Any]]

CC: list[tuple[str, list[Turn]]] = [
    (C, [U("Add a `--since` option to the export command so I can export only rows changed after a date"), T("grep", "def export", o.GREP_FILES), T("read", "src/acme/cli.py"), T("edit", "src/acme/cli.py"), T("edit", "src/acme/export.py"), T("bash", "pytest tests/test_export.py -q", o.PYTEST_PASS)]),
    (R, [U("Add rate limiting to the login endpoint: lock an account for 15 minutes after 5 failed attempts"), T("read", "src/acme/auth/login.py"), T("edit", "src/acme/auth/login.py"), T("bash", "pytest tests/test_rate_limit.py", o.PYTEST_FAIL_2, True)]),
    (R, [U("Support partial refunds in refund()"), T("read", "src/acme/refunds.py"), T("edit", "src/acme/refunds.py"), T("bash", "pytest -q", o.PYTEST_FAIL, True), T("edit", "src/acme/refunds.py"), T("bash", "pytest -q", o.PYTEST_FAIL, True)]),
    (C, [U("Write a small CSV importer for the contacts table"), T("write", "src/acme/importers/contacts.py"), T("write", "tests/test_contacts_import.py"), T("bash", "pytest tests/test_contacts_import.py -q", o.PYTEST_PASS), A("The importer is in src/acme/importers/contacts.py with 6 tests, all passing."), U("great, commit this")]),
    (C, [U("what's uncommitted right now?"), T("bash", "git status", o.GIT_STATUS), A("Three modified files: cli.py, export.py and tests/test_export.py."), U("commit them with a sensible message")]),
    (R, [U("Refunds over the original amount should be rejected"), T("edit", "src/acme/refunds.py"), T("bash", "pytest -q", o.PYTEST_FAIL, True), A("I adjusted the remaining-amount calculation; running again."), T("edit", "src/acme/refunds.py"), T("bash", "pytest -q", o.PYTEST_FAIL, True), A("Still one failure; the remaining amount is not being updated."), U("hmm, same thing again")]),
    (C, [U("how is the config loaded?"), T("grep", "load_config", o.GREP_FILES), T("read", "src/acme/config.py")]),
    (R, [U("is there anything here I should worry about before I merge?"), T("bash", "git diff main...HEAD", o.GIT_DIFF)]),
    (C, [U("Show the order note and total in the orders table"), T("read", "src/components/OrderTable.tsx"), T("edit", "src/components/OrderTable.tsx"), T("bash", "npx tsc --noEmit", o.TSC_ERRORS, True)]),
    (R, [U("the numbers on the usage page don't add up"), T("grep", "usage_total", "src/usage/aggregate.py\nsrc/usage/api.py"), T("read", "src/usage/aggregate.py")]),
    (C, [U("Add a secondary button to the settings footer"), T("read", "src/components/Button.tsx"), A("There is a `variant` prop with primary/secondary/ghost."), U("use the same style as the other buttons on that page")]),
    (R, [U("some webhooks get delivered twice, no idea why"), T("task", "Find every code path that enqueues or sends a webhook delivery and report whether any can run twice for one event", "Found 3 paths: routes.py:61 delivers inline, deliver.py:44 enqueues with retry=5, and jobs/sweeper.py re-enqueues events older than 5 minutes that are still marked pending. The inline delivery never marks the event delivered.")]),
    (C, [U(f"fix these please\n\n{o.ESLINT}")]),
    (R, [U("Apply the coupon after the percentage discount"), T("read", "src/cart/total.ts"), T("edit", "src/cart/total.ts"), T("bash", "npm test -- total", o.JEST_FAIL, True)]),
    (C, [U("Add the /v1/exports endpoint"), T("edit", "src/acme/api/exports.py"), T("edit", "src/acme/api/routes.py"), T("bash", "pytest -q", o.PYTEST_PASS), A("Endpoint added."), U("now add tests for it")]),
    (R, [U("run the migrations locally"), T("bash", "alembic upgrade head", o.MIGRATION_ERROR, True)]),
    (C, [U("update the Dockerfile to python 3.12-slim"), T("read", "Dockerfile", "FROM python:3.10\nWORKDIR /app\nCOPY . .\nRUN pip install -e .\nCMD [\"acme\", \"serve\"]"), T("edit", "Dockerfile")]),
    (R, [U("the orders page got a lot slower since we turned on eager loading for line items")]),
    (C, [U("Add the billing address fields to the profile form"), A("Plan: 1) add fields to the form schema 2) render them 3) send them in the PATCH."), U("yes")]),
    (R, [U("what could go wrong if two workers pick up the same job at the same time?"), T("read", "src/jobs/worker.py")]),
    (C, [U("write a README for the scripts folder"), T("glob", "scripts/*", o.GLOB_FILES), T("read", "scripts/backfill.py"), T("read", "scripts/report.py")]),
    (R, [U("go test passes on my machine but fails in CI"), T("bash", "go test -race ./...", o.GO_RACE, True)]),
    (R, [U("we need to keep per-tenant settings somewhere. where should they live?")]),
    (C, [U("the submit button says Sumbit")]),
    (R, [U("Change the invoice rounding to half-up"), T("read", "src/billing/invoice.ts"), T("edit", "src/billing/invoice.ts")]),
    (C, [U(f"getting this when I run the report script\n\n{o.NAME_ERROR}")]),
    (R, [U("after the last deploy a couple of users saw someone else's cart")]),
    (C, [U("convert utils/format.js to TypeScript"), T("read", "src/utils/format.js"), T("write", "src/utils/format.ts"), T("bash", "git rm src/utils/format.js", "rm 'src/utils/format.js'")]),
    (R, [U("before writing any code, lay out how you'd add offline support to the mobile app")]),
    (C, [U("make parse_amount accept '1,234.50'"), T("edit", "src/acme/money.py"), T("bash", "pytest tests/test_money.py -q", o.PYTEST_PASS), A("Done, commas are stripped before parsing."), U("also handle an empty string")]),
    (C, [U("clean up the history before I push"), T("bash", "git log --oneline -3", o.GIT_LOG), A("The top commit is a 'wip'."), U("squash the wip commit into the one before it")]),
    (R, [U("every few days the importer just stops and there's nothing in the logs")]),
    (C, [U("the footer looks cramped on small screens")]),
    (C, [U("pin the versions in requirements.txt to what's installed"), T("bash", "pip freeze", "aiohttp==3.10.10\nattrs==24.2.0\norjson==3.10.7\npydantic==2.9.2")]),
    (R, [U("I'm not sure the caching we added last week is still correct now that prices can change mid-day. think it through")]),
    (C, [U("add a CHANGELOG entry for the --since flag")]),
    (C, [U("Add pagination to /v1/exports"), T("read", "src/acme/api/exports.py"), T("edit", "src/acme/api/exports.py"), T("edit", "src/acme/api/schemas.py"), T("edit", "tests/test_exports.py"), T("bash", "pytest -q", o.PYTEST_PASS), A("Paginated with `cursor` and `limit`."), U("and the same for /v1/imports")]),
    (R, [U("Upgrade SQLAlchemy to 2.0"), T("edit", "pyproject.toml"), T("edit", "src/acme/db.py"), T("bash", "pytest -q", o.PYTEST_FAIL, True)]),
    (C, [U("how does the user lookup cache work?"), T("read", "src/acme/users.py"), A("It is a plain dict keyed by user id, never evicted."), U("ok, switch it to functools.lru_cache with 1024 entries")]),
    (R, [U("I think the refund math is off"), T("read", "src/acme/refunds.py"), T("bash", "pytest tests/test_refunds.py -q", o.PYTEST_PASS), A("All refund tests pass."), U("they pass, but customers are still being refunded the full amount")]),
    (C, [U("write staging values for the helm chart"), T("read", "helm/acme/values.yaml"), T("write", "helm/acme/values-staging.yaml")]),
    (R, [U("review the middleware I just wrote"), T("read", "lib/auth/middleware.ts")]),
    (C, [U("commit this"), T("bash", "git add -A && git commit -m 'Add --since to the export command'", o.GIT_COMMIT), A("Committed as 1a2b3c4."), U("push it and open a PR")]),
    (R, [U("the e2e suite has been flaky since yesterday"), T("bash", "npx playwright test", o.PLAYWRIGHT_FLAKY)]),
    (C, [U("Add the notes field end to end"), T("edit", "src/acme/models.py"), T("edit", "src/acme/api/schemas.py"), T("edit", "src/acme/api/routes.py"), T("edit", "web/src/NoteField.tsx")]),
    (R, [U("why is the monthly report so slow?"), T("bash", "python -m cProfile -s cumtime scripts/report.py", o.CPROFILE)]),
    (C, [U("add docstrings to the public functions in export.py"), T("read", "src/acme/export.py"), T("edit", "src/acme/export.py")]),
]  # fmt: skip

CC_BACKGROUND: list[tuple[str, str, Req]] = [
    (Q, "topic check, Claude Code 2.1 on its small model", claude_code2([U("the numbers on the usage page don't add up")], "v2bg1", model="claude-haiku-4-5")),
    (Q, "topic check with a real title prompt", claude_code([U("ok now let's move on to the invoice rounding")], "v2bg2", model="claude-haiku-4-5", system=CC_TOPIC_SYSTEM, max_tokens=512)),
    (Q, "compaction of a realistic session", claude_code([U("Support partial refunds"), T("read", "src/acme/refunds.py"), T("edit", "src/acme/refunds.py"), T("bash", "pytest -q", o.PYTEST_PASS), A("Done."), U(CC_SUMMARY_USER)], "v2bg3")),
    (Q, "Explore subagent with results", claude_code([U("Find where webhook deliveries are enqueued; medium thoroughness"), T("grep", "deliver(", o.RG_OUT)], "v2bg4", model="claude-haiku-4-5", system=CC_EXPLORE_SYSTEM)),
    (C, "general-purpose subagent doing an edit", claude_code([U("Update every call site of fetch_user to pass include_deleted=False explicitly"), T("grep", "fetch_user(", o.GREP_FILES), T("edit", "src/acme/cli.py")], "v2bg5", system=CC_TASK_SYSTEM)),
    (R, "general-purpose subagent asked for a root cause", claude_code([U("Read the job worker and explain how a job could end up running twice. Report the root cause, do not change code."), T("read", "src/jobs/worker.py")], "v2bg6", system=CC_TASK_SYSTEM)),
    (Q, "Explore subagent, glob and grep results", claude_code([U("Locate the Helm chart and every values file; quick"), T("glob", "**/values*.yaml", "/home/dev/acme/helm/acme/values.yaml\n/home/dev/acme/helm/acme/values-prod.yaml"), T("grep", "replicaCount", o.GREP_FILES)], "v2bg7", model="claude-haiku-4-5", system=CC_EXPLORE_SYSTEM)),
]  # fmt: skip

OC: list[tuple[str, list[Turn]]] = [
    (C, [U("add a delete button to each note"), T("read", "src/components/Note.tsx"), T("edit", "src/components/Note.tsx"), T("edit", "src/api/notes.ts"), T("bash", "bun test", o.BUN_PASS)]),
    (R, [U("support editing a note from two tabs at once"), T("edit", "src/api/notes.ts"), T("bash", "bun test", o.BUN_FAIL, True)]),
    (C, [U("rename the `Note.text` field to `body` everywhere"), T("grep", "\\.text\\b", "src/api/notes.ts\nsrc/components/Note.tsx"), T("edit", "src/api/notes.ts"), T("edit", "src/components/Note.tsx")]),
    (R, [U("fix the merge"), T("edit", "src/api/notes.ts"), T("bash", "bun test", o.BUN_FAIL, True), T("edit", "src/api/notes.ts"), T("bash", "bun test", o.BUN_FAIL, True), U("still broken")]),
    (R, [U("look at what I changed today and tell me what you'd push back on"), T("bash", "git diff HEAD~3", o.GIT_DIFF)]),
    (C, [U("what's changed?"), T("bash", "git status", o.GIT_STATUS), A("Three files modified."), U("commit and push")]),
    (R, [U("hot reload stopped working after I upgraded vite, it always does a full page reload now"), T("bash", "bun run dev", o.VITE_LOG)]),
    (C, [U("show the note and total columns"), T("edit", "src/components/OrderTable.tsx"), T("bash", "bunx tsc --noEmit", o.TSC_ERRORS, True)]),
    (R, [U("how should the offline queue handle two devices editing the same note?")]),
    (C, [U("close the modal when escape is pressed")]),
    (R, [U(f"/api/orders is returning 500s in prod for some accounts\n\n{o.PROD_LOG}")]),
    (C, [U("which test runner does this use?"), T("glob", "**/*.test.ts", "src/api/notes.test.ts\nsrc/lib/date.test.ts"), T("read", "package.json", '{\n  "name": "notes",\n  "scripts": { "test": "bun test", "dev": "vite" }\n}')]),
    (C, [U("move the date helpers into src/lib/date.ts"), A("I'll move formatDate, parseDate and addDays and update imports. Proceed?"), U("ok")]),
    (R, [U("the sync sometimes uploads an older version of a note over a newer one")]),
    (C, [U("add a delete button"), T("edit", "src/components/Note.tsx"), T("bash", "bun test", o.BUN_PASS), A("Added."), U("nice. also ask for confirmation first")]),
    (R, [U("the notes list flickers whenever a sync runs"), T("read", "src/sync/engine.ts"), T("read", "src/components/NoteList.tsx")]),
    (C, [U("type the API responses"), T("edit", "src/api/types.ts"), T("edit", "src/api/notes.ts"), T("bash", "bunx tsc --noEmit", "")]),
    (R, [U("sanity check this before I ship it"), T("bash", "git diff main", o.GIT_DIFF)]),
]  # fmt: skip

OC_BACKGROUND: list[tuple[str, str, Req]] = [
    (Q, "title generator, real first message", opencode([U("the sync sometimes uploads an older version of a note over a newer one")], "v2ot1", system=OC_TITLE_SYSTEM)),
    (Q, "session summary after a real session", opencode([U("add a delete button to each note"), T("edit", "src/components/Note.tsx"), T("bash", "bun test", o.BUN_PASS), A("Done."), U(OC_SUMMARY_USER)], "v2ot2")),
]  # fmt: skip

CODEX: list[tuple[str, list[Turn]]] = [
    (C, [U("implement `Cache::remove`"), T("read", "src/lru.rs"), T("edit", "src/lru.rs"), T("bash", "cargo test", o.CARGO_TEST_PASS)]),
    (R, [U("make the LRU evict by last access instead of insertion order"), T("edit", "src/lru.rs"), T("bash", "cargo test", o.CARGO_TEST_FAIL, True)]),
    (C, [U("explain what build.rs does"), T("read", "build.rs", 'fn main() {\n    println!("cargo:rerun-if-changed=proto/");\n    prost_build::compile_protos(&["proto/acme.proto"], &["proto/"]).unwrap();\n}')]),
    (R, [U("pytest passes on my laptop but fails inside the docker image"), T("bash", "docker run --rm acme pytest -q", o.DOCKER_FAIL, True)]),
    (C, [U("add a --filter option to the list command"), T("edit", "src/commands/list.rs"), T("bash", "cargo build", o.CARGO_E0425, True)]),
    (R, [U("fix eviction"), T("edit", "src/lru.rs"), T("bash", "cargo test", o.CARGO_TEST_FAIL, True), T("edit", "src/lru.rs"), T("bash", "cargo test", o.CARGO_TEST_FAIL, True)]),
    (C, [U("add a changelog entry for the filter option")]),
    (R, [U("the daemon's memory keeps growing over a day, it's at 1.5GB now"), T("bash", "ps aux | grep acmed", o.PS_RSS)]),
    (C, [U("fix the clippy warnings"), T("bash", "cargo clippy", o.CLIPPY)]),
    (R, [U("the exporter test is flaky"), T("bash", "go test -race ./metrics/...", o.GO_RACE, True)]),
    (C, [U("add the Record method to the exporter"), T("edit", "metrics/export.go"), T("bash", "go test ./...", o.GO_PASS)]),
    (R, [U("what's the safest way to roll out the new session token format without logging everyone out?")]),
    (C, [U("add a --json flag to status"), A("I can add it to `status` and `list`, using serde_json. Go ahead?"), U("y")]),
    (R, [U("add an index on orders.customer_id"), T("write", "migrations/0031_orders_customer_idx.sql")]),
    (C, [U("bump tokio to 1.41"), T("edit", "Cargo.toml"), T("bash", "cargo build", "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 41.22s")]),
    (C, [U("where is the status command defined?"), T("grep", "fn status", "src/commands/status.rs:12:pub fn status(opts: &Opts) -> Result<()> {"), T("read", "src/commands/status.rs"), A("It's in src/commands/status.rs; options come from `Opts`."), U("ok, add a --verbose flag there")]),
    (R, [U("cargo test hangs forever on the integration tests"), T("bash", "cargo test --test integration", o.CARGO_HANG, True)]),
    (C, [U("add the timeout option to acme-http"), T("edit", "crates/acme-http/src/lib.rs"), T("bash", "cargo test -p acme-http", o.CARGO_TEST_PASS), A("Done."), U("apply the same change to acme-grpc and acme-ws")]),
    (R, [U("the release binary crashes on startup on macOS, linux is fine"), T("bash", "./target/release/acme --version", "acme 0.9.0")]),
]  # fmt: skip

SR = "{path}\n```python\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n```"
AIDER_COMMIT_SYSTEM = (
    "You are an expert software engineer that generates concise, one-line Git commit messages "
    "based on the provided diffs.\nReview the provided context and diffs which are about to be "
    "committed to a git repo.\nReply only with the one-line commit message, without any "
    "additional text, explanations, or line breaks."
)
AIDER_SUMMARY_SYSTEM = (
    "*Briefly* summarize this partial conversation about programming.\nInclude less detail about "
    "older parts and more detail about the most recent messages.\nStart a new paragraph every "
    "time the topic changes!"
)

AIDER: list[tuple[str, list[Turn]]] = [
    (C, [U("add a --limit option to cli.py"), A(SR.format(path="cli.py", old='parser.add_argument("--since")', new='parser.add_argument("--since")\nparser.add_argument("--limit", type=int)')), U("also mention it in the help text")]),
    (R, [U("make refund() support partial refunds"), A(SR.format(path="refunds.py", old="remaining = order.total", new="remaining = order.total - amount")), U(f"now the tests fail:\n\n{o.PYTEST_FAIL}")]),
    (C, [U("add logging to fetch_rows"), A(SR.format(path="db.py", old="def fetch_rows(q):", new="def fetch_rows(q):\n    log.debug('query %s', q)")), U("looks good, do the same in writer.py")]),
    (R, [U("round negative amounts correctly"), A(SR.format(path="money.py", old="return int(x + 0.5)", new="return int(round(x))")), U("I applied it but -2.5 still comes out as -2, and I expected -3")]),
    (C, [U("rename get_data to fetch_rows everywhere")]),
    (R, [U("the parser chokes on nested quotes, can you work out why?")]),
    (R, [U("what's the cleanest way to let both sync and async callers use this client without duplicating everything?")]),
    (C, [U("add a --limit option"), A(SR.format(path="cli.py", old="def main(argv=None):", new='def main(argv=None):\n    parser = argparse.ArgumentParser(prog="acme")\n    parser.add_argument("--limit", type=int)')), U(o.FLAKE8)]),
    (R, [U("make refund() support partial refunds"), A(SR.format(path="refunds.py", old="remaining = order.total", new="remaining = order.total - amount")), U(o.PYTEST_FAIL)]),
]  # fmt: skip

AIDER_BACKGROUND: list[tuple[str, str, Req]] = [
    (Q, "aider commit message (weak model)", aider([U(f"# Diffs:\n{o.GIT_DIFF}")], "v2ai-commit", model="gpt-4o-mini", system=AIDER_COMMIT_SYSTEM)),
    (Q, "aider chat summary (weak model)", aider([U("# USER\nadd a --limit option\n# ASSISTANT\nI added it to cli.py.\n# USER\nalso mention it in the help text\n# ASSISTANT\nDone.")], "v2ai-sum", model="gpt-4o-mini", system=AIDER_SUMMARY_SYSTEM)),
]  # fmt: skip

SDK: list[tuple[str, str, Req]] = [
    (Q, "commit message from a diff", sdk_openai(f"Write a one-line commit message for this diff:\n\n{o.GIT_DIFF}", model="gpt-4o-mini")),
    (Q, "extraction", sdk_openai("Extract the email addresses from this text as a JSON list: Contact anna@example.com or, for billing, billing@acme.io. Bob (bob@acme.io) is on leave.")),
    (R, "PR review bot", sdk_anthropic(f"Review this pull request diff. List correctness and concurrency problems, most severe first.\n\n{o.GIT_DIFF}", system="You are a senior engineer doing code review for the acme repository.")),
    (C, "small script", sdk_openai("Write a bash script that renames every .jpeg file in a directory tree to .jpg")),
    (Q, "classification", sdk_openai("Classify the sentiment of this review as positive, negative or neutral: 'Setup took five minutes and it just works.'", model="gpt-4o-mini")),
    (R, "production incident", sdk_anthropic("Our Postgres primary hits 100% CPU every night around 2am and queries time out for ~10 minutes. Autovacuum settings are default; the nightly ETL starts at 1:45. How would you narrow this down?")),
    (C, "SQL query", sdk_openai("Write a SQL query that returns the top 5 customers by total order value in the last 30 days from orders(customer_id, total, created_at).")),
    (Q, "trivial lookup", sdk_openai("Which HTTP status code means too many requests?")),
    (R, "multi-turn concurrency question", sdk_openai([U("I have a Go map guarded by a RWMutex; readers take RLock, the writer takes Lock."), A("That is the usual pattern; what is the problem?"), U("under load some readers see a half-updated struct value even though they hold RLock")])),
    (C, "add type hints", sdk_openai("Add type hints to this function:\n```python\ndef merge(a, b, key=None):\n    out = dict(a)\n    for k, v in b.items():\n        out[key(k) if key else k] = v\n    return out\n```")),
    (Q, "naming", sdk_openai("Suggest a better name for this function: def f(xs): return [x for x in xs if x]", model="gpt-4o-mini")),
    (R, "architecture question with a system prompt", sdk_anthropic("We are splitting a Django monolith into services. Orders, billing and notifications share tables. What should we split first and how do we handle the shared tables?", system="You are an expert software architect.")),
    (C, "multi-turn code generation", sdk_openai([U("write a python function that slugifies a title"), A("```python\nimport re\n\ndef slugify(title: str) -> str:\n    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n```"), U("make it handle accented characters like é and ü")])),
    (Q, "multi-turn chat summary", sdk_anthropic("Summarize the following support thread in two sentences:\n\nCustomer: my export is empty.\nAgent: which date range?\nCustomer: last week.\nAgent: fixed, the filter was inverted.", model="claude-haiku-4-5")),
]  # fmt: skip


def huge() -> list[tuple[str, str, Req]]:
    """Sessions of ~150k-250k tokens: long real-looking reads and logs."""
    src = "\n".join(
        f"    result_{i} = compute(row, {i})  # keep in step with the schema" for i in range(2500)
    )
    log = "\n".join(
        f"2026-11-20T03:{i // 60 % 60:02d}:{i % 60:02d}Z INFO importer batch={i} rows=500 ok"
        for i in range(3000)
    )
    reads: list[Turn] = [T("read", f"src/acme/pipeline/stage{i}.py", src) for i in range(3)]
    debug: list[Turn] = [
        U("Make the importer resumable after a crash"),
        *reads,
        T("edit", "src/acme/pipeline/stage2.py"),
        T("bash", "pytest tests/pipeline -q", o.PYTEST_FAIL, True),
    ]
    impl: list[Turn] = [U("Add progress reporting to every pipeline stage"), *reads] + [
        T("edit", f"src/acme/pipeline/stage{i}.py") for i in range(3)
    ]
    logs: list[Turn] = [
        U("the importer stopped at 3am again"),
        T("bash", "cat /var/log/acme/importer.log", log),
        T("bash", "cat /var/log/acme/importer.log.1", log),
    ]
    return [
        (R, "~200k tokens: edits then a failing test run", claude_code2(debug, "v2huge1")),
        (C, "~200k tokens: a run of edits, short follow-up", claude_code([*impl, A("Progress is reported per stage."), U("do the same for the exporter")], "v2huge2")),
        (R, "~150k tokens of logs, symptom", codex(logs, "v2huge3")),
        (Q, "compaction of a ~200k-token session", opencode([*impl, A("Done."), U(OC_SUMMARY_USER)], "v2huge4")),
    ]  # fmt: skip


def build(case: Any) -> dict[str, list[dict[str, Any]]]:
    """``case(id, harness, label, note, req)`` -> one case dict; returns cases per file."""
    cc = [
        case(
            f"v2-cc-{i}",
            "claude_code",
            lab,
            "multi-turn (v2)",
            (claude_code2 if i % 2 else claude_code)(h, f"v2cc{i}"),
        )
        for i, (lab, h) in enumerate(CC)
    ]
    cc += [
        case(f"v2-cc-bg-{i}", "claude_code", lab, note, req)
        for i, (lab, note, req) in enumerate(CC_BACKGROUND)
    ]
    oc = [
        case(f"v2-oc-{i}", "opencode", lab, "multi-turn (v2)", opencode(h, f"v2oc{i}"))
        for i, (lab, h) in enumerate(OC)
    ]
    oc += [
        case(f"v2-oc-bg-{i}", "opencode", lab, note, req)
        for i, (lab, note, req) in enumerate(OC_BACKGROUND)
    ]
    cx = [
        case(f"v2-codex-{i}", "codex", lab, "exec_command session (v2)", codex(h, f"v2cx{i}"))
        for i, (lab, h) in enumerate(CODEX)
    ]
    cx.append(
        case(
            "v2-codex-compact",
            "codex",
            Q,
            "compaction subagent, real session",
            codex(
                [
                    U("fix eviction"),
                    T("edit", "src/lru.rs"),
                    T("bash", "cargo test", o.CARGO_TEST_PASS),
                    A("Fixed."),
                ],
                "v2cxc",
                subagent="compact",
            ),
        )
    )
    ai = [
        case(f"v2-aider-{i}", "aider", lab, "SEARCH/REPLACE session (v2)", aider(h, f"v2ai{i}"))
        for i, (lab, h) in enumerate(AIDER)
    ]
    ai += [
        case(f"v2-aider-bg-{i}", "aider", lab, note, req)
        for i, (lab, note, req) in enumerate(AIDER_BACKGROUND)
    ]
    sdk = [case(f"v2-sdk-{i}", "sdk", lab, note, req) for i, (lab, note, req) in enumerate(SDK)]
    big = [
        case(f"v2-huge-{i}", "mixed", lab, note, req) for i, (lab, note, req) in enumerate(huge())
    ]
    return {"v2_claude_code": cc, "v2_opencode": oc, "v2_codex": cx, "v2_aider": ai, "v2_sdk": sdk, "v2_huge": big}  # fmt: skip
