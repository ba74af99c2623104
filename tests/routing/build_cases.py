# ruff: noqa: E501  (case texts are data: one request per line reads best)
"""Write the labelled routing cases to tests/routing/cases/*.jsonl.

Run ``python tests/routing/build_cases.py`` after editing a case. Each case is
a request as its harness sends it, with the tier a careful human would send
it to under tests/routing/eval.toml:

- reasoning: planning/design, debugging (incl. failing runs after edits),
  reviews/audits, and anything touching heavy-tagged paths (migrations, auth,
  billing);
- coding: implementation, refactoring, tests, and every other request of a
  coding agent's primary loop (the primary agent is floored to coding);
- quick: background work (titles, summaries, command-prefix checks), search
  subagents, trivial one-shot SDK calls.

Labels were written from the request alone, before looking at the router's
answer; cases the router gets wrong stay labelled as they are. The policy in
full, with examples, and the tune/holdout split: tests/routing/cases/README.md.
The second batch (written after the audit) lives in cases_v2.py.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).parent))

import cases_v2  # noqa: E402
from harness_shapes import (  # noqa: E402
    CC_EXPLORE_SYSTEM,
    CC_PREFIX_SYSTEM,
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
    codex,
    opencode,
    sdk_anthropic,
    sdk_openai,
)

R, C, Q = "reasoning", "coding", "quick"
OUT = Path(__file__).parent / "cases"
HOLDOUT_BYTE = 77  # sha256(id)[0] < 77: 77/256 = 30% of ids

CC_FIRST: list[tuple[str, str]] = [
    (R, "Plan how we should migrate the monolith's reporting module to its own service. What are the phases and the risks?"),
    (R, "Users get logged out randomly after the token refresh change, can you figure out why?"),
    (R, "Review the changes on this branch before I open the PR"),
    (C, "Add a --dry-run flag to the sync command that prints what would change"),
    (C, "Write unit tests for parse_duration in utils/time.py"),
    (C, "Rename UserRepo to AccountRepository everywhere"),
    (C, "What does the retry decorator in net/retry.py do?"),
    (C, "Where is the rate limiter configured?"),
    (R, "The CI job fails with `ModuleNotFoundError: No module named 'yaml'` but only on Python 3.12"),
    (C, "Implement cursor-based pagination for the /orders endpoint, 50 per page"),
    (R, "Is this lock-free queue actually safe with concurrent producers?\n```rust\nimpl<T> Queue<T> {\n    pub fn push(&self, v: T) { let n = Box::into_raw(Box::new(Node::new(v))); let prev = self.tail.swap(n, AcqRel); unsafe { (*prev).next.store(n, Release) } }\n}\n```"),
    (C, "Extract the validation logic from OrderController into its own class"),
    (R, "Design the schema for multi-tenant workspaces: tenants, memberships, roles. Row-level security or a schema per tenant?"),
    (C, "Bump eslint to v9 and fix whatever the new config format breaks"),
    (C, "I hit /profile and get this:\nTraceback (most recent call last):\n  File \"app/views.py\", line 88, in profile\n    uid = session['user_id']\nKeyError: 'user_id'"),
    (C, "Convert the callbacks in legacy/upload.js to async/await"),
    (C, "thanks, that works"),
    (R, "Can you do a security audit of the file upload handler?"),
    (C, "Make the sidebar collapsible on mobile"),
    (R, "Why does `npm run build` take 4 minutes now? It used to take 40 seconds."),
    (R, "Explain the difference between our two caching layers and which one we should use for session data going forward"),
    (C, "Set up a GitHub Actions workflow that runs the tests on every push"),
    (R, "The CSV export drops rows whose name contains a comma"),
    (C, "Clean up the duplicated date formatting helpers in src/format/"),
    (C, "Go ahead"),
    (R, "Should we use Postgres advisory locks or Redis for leader election in the job scheduler? Weigh the failure modes."),
    (C, "Generate TypeScript types from the OpenAPI spec and wire them into the API client"),
    (R, "Look over src/payments/refund.ts and tell me if anything could double-refund"),
    (C, "Fix the typo in the README install section"),
    (C, "Why is this returning None?\n```python\ndef get(self, key):\n    self.cache.get(key)\n```"),
    (C, "Split the 1,200-line server.py into modules by responsibility"),
    (C, "Add retries with exponential backoff to the S3 uploader"),
    (R, "Investigate the memory growth in the worker process over 24 hours"),
    (C, "Create a Dockerfile for the api service"),
    (C, "add a loading skeleton to the orders table while the data is fetched"),
]  # fmt: skip

CC_AMBIGUOUS: list[tuple[str, str]] = [
    (R, "the totals on the invoice page are a few cents off from what Stripe shows"),
    (R, "hmm, the dashboard still shows yesterday's numbers even after a refresh"),
    (R, "we'll need to support SSO for enterprise customers soon, where would you even begin?"),
    (C, "could you make the loading spinner a bit less jumpy"),
    (R, "let's get the admin page talking to the new permissions service"),
    (R, "something's off with the timezone handling for users in Australia"),
    (C, "I don't love how the config object is threaded through every function here"),
    (R, "the signup emails go out twice for some people"),
    (C, "put the new banner on the pricing page"),
    (R, "before we commit to GraphQL, what would we be giving up?"),
    (R, "numbers in the weekly report stopped matching the finance spreadsheet last month"),
    (C, "the settings screen needs a toggle for email digests"),
]  # fmt: skip

CC_FOLLOWUPS: list[tuple[str, list[Turn]]] = [
    (C, [U("Add a created_at field to the users API response"), T("read", "src/api/users.py", "def serialize(u): ..."), T("edit", "src/api/users.py"), T("bash", "pytest tests/api -q", "12 passed in 0.8s")]),
    (R, [U("Add input validation to the signup form"), T("edit", "src/forms/signup.tsx"), T("bash", "npm test", "FAIL src/forms/signup.test.tsx\n  ● validates email\n    expect(received).toBe(expected)\nTests: 1 failed, 23 passed", True)]),
    (C, [U("Move the payment client over to the new SDK"), T("read", "src/payments/client.ts", "..."), T("edit", "src/payments/client.ts"), T("edit", "src/payments/index.ts"), T("edit", "src/payments/types.ts")]),
    (R, [U("Why do the e2e tests time out on CI?"), T("bash", "cat .github/workflows/e2e.yml", "jobs: ..."), T("read", "tests/e2e/setup.ts", "...")]),
    (R, [U("Implement the CSV export"), T("write", "src/export/csv.py"), T("bash", "pytest tests/export", "FAILED tests/export/test_csv.py::test_quotes - AssertionError", True), T("edit", "src/export/csv.py"), T("bash", "pytest tests/export", "FAILED tests/export/test_csv.py::test_quotes - AssertionError", True)]),
    (C, [U("What does this repo do?"), T("read", "README.md", "# acme-api ..."), T("grep", "def main", "cli.py:12")]),
    (C, [U("Add a health check endpoint"), T("edit", "src/app.py"), T("bash", "pytest -q", "41 passed")]),
    (R, [U("Review my last three commits for bugs"), T("bash", "git log -3 -p", "commit 1a2b...\ndiff --git a/src/q.py b/src/q.py ...")]),
    (C, [U("Plan the rollout of the feature flag system"), A("Here is a plan: 1. flag store 2. SDK 3. UI"), U("ok, implement step 1: the flag store")]),
    (R, [U("Implement the flag store"), T("write", "src/flags/store.java"), A("Done."), U("now the tests fail with a NullPointerException in FlagStoreTest")]),
    (R, [U("Fix the flaky test in tests/test_scheduler.py"), T("read", "tests/test_scheduler.py", "...")]),
    (C, [U("Update the dependency versions in requirements.txt"), T("edit", "requirements.txt"), T("bash", "pip install -r requirements.txt", "Successfully installed ...")]),
    (C, [U("add type hints to the helpers module"), T("read", "src/helpers.py", "..."), T("edit", "src/helpers.py"), T("bash", "mypy src", "Success: no issues found")]),
]  # fmt: skip

PATHS: list[tuple[str, str, list[Turn]]] = [
    ("cc", R, [U("Add a nullable column for the referral code"), T("write", "db/migrations/0042_referral_code.sql")]),
    ("cc", R, [U("Set the session timeout to 30 minutes"), T("read", "lib/auth/session.ts", "..."), T("edit", "lib/auth/session.ts")]),
    ("cc", C, [U("Rename the variable in the string helper"), T("edit", "lib/util/strings.ts")]),
    ("cc", R, [U("Update migrations/0007_orders.sql to add the index we discussed")]),
    ("cc", R, [U("Add logging to the callback in lib/auth/oauth.py")]),
    ("oc", R, [U("add a down migration for the legacy table"), T("write", "migrations/0013_drop_legacy.sql")]),
    ("codex", R, [U("tighten the password rules"), T("edit", "lib/auth/password.go")]),
    ("codex", C, [U("tidy up the logging calls"), T("edit", "internal/log/log.go")]),
]  # fmt: skip


def cc_background() -> list[tuple[str, str, tuple[str, dict[str, str], dict[str, Any]]]]:
    long_history: list[Turn] = [
        U("Implement the importer"),
        T("edit", "src/importer.py"),
        A("Done"),
    ] * 6
    return [
        (Q, "topic/title check on the small model", claude_code([U("fix the login bug")], "bg1", model="claude-haiku-4-5", system=CC_TOPIC_SYSTEM, max_tokens=512)),
        (Q, "topic/title check", claude_code([U("now let's look at the billing export")], "bg2", model="claude-3-5-haiku-20241022", system=CC_TOPIC_SYSTEM, max_tokens=512)),
        (Q, "conversation compaction", claude_code([*long_history, U(CC_SUMMARY_USER)], "bg3")),
        (Q, "bash command prefix policy", claude_code([U("Command: git status --short")], "bg4", model="claude-haiku-4-5", system=CC_PREFIX_SYSTEM, max_tokens=512, tools=[])),
        (Q, "quota probe", claude_code([U("quota")], "bg5", model="claude-haiku-4-5", max_tokens=1, tools=[])),
        (Q, "Explore subagent", claude_code([U("Find where the JWT is validated and list the files")], "bg6", model="claude-haiku-4-5", system=CC_EXPLORE_SYSTEM)),
        (Q, "Explore subagent on sonnet", claude_code([U("Search the codebase for every caller of chargeCustomer")], "bg7", system=CC_EXPLORE_SYSTEM)),
        (R, "Task subagent debugging", claude_code([U("Investigate why the websocket reconnect loop never backs off and report the root cause")], "bg8", system=CC_TASK_SYSTEM)),
        (C, "Task subagent writing tests", claude_code([U("Write unit tests for the parser module in src/parser/")], "bg9", system=CC_TASK_SYSTEM)),
        (Q, "Task subagent lookup", claude_code([U("List all the places that read the FEATURE_FLAGS env var")], "bg10", system=CC_TASK_SYSTEM)),
        (Q, "Explore subagent follow-up", claude_code([U("Where are the webhooks registered?"), T("grep", "registerWebhook", "src/hooks.ts:10")], "bg11", model="claude-haiku-4-5", system=CC_EXPLORE_SYSTEM)),
    ]  # fmt: skip


CC_SLASH: list[tuple[str, list[Turn]]] = [
    (R, [U("/plan add rate limiting to the public API")]),
    (R, [U("/debug the cron job isn't firing")]),
    (R, [U("<command-message>review is running…</command-message>\n<command-name>/review</command-name>\n<command-args>src/billing</command-args>")]),
    (C, [U("/code add the missing null check")]),
    (C, [U("/refactor the OrderService into smaller pieces")]),
    (C, [U("/code why is the cache returning stale data? just make it bypass the cache for admins")]),
    (C, [U("add a test that the /plan endpoint returns 404 for guests")]),
    (C, [U("see https://docs.example.com/code/review for the style we follow, and add docstrings to utils.py")]),
    (R, [U("/lock reasoning"), A("Locked to reasoning."), U("add a button to export the report")]),
    (C, [U("/lock reasoning"), A("Locked."), U("/auto"), A("Back to automatic routing."), U("add a button to export the report")]),
    (R, [U("<command-name>/plan</command-name>\n<command-args>move the job queue to the new broker</command-args>")]),
    (R, [U("/tag billing update the wording of the invoice email")]),
    (R, [U("/debug checkout totals are off by one cent"), T("read", "src/checkout/total.ts", "..."), T("bash", "npm test -- total", "Tests: 3 passed")]),
    (C, [U("/code/app.py has an unused import, remove it")]),
    (R, [U("/lock debugger"), A("Locked."), U("the nightly job is slow again")]),
]  # fmt: skip

OC_PRIMARY: list[tuple[str, list[Turn]]] = [
    (R, [U("plan the migration from REST to tRPC")]),
    (C, [U("the build fails with TS2345: Argument of type 'string' is not assignable to parameter of type 'number'")]),
    (C, [U("add a dark mode toggle to the settings page")]),
    (R, [U("review src/server/auth.ts for security issues")]),
    (C, [U("extract the date utils into a shared package")]),
    (C, [U("what's in the src/lib folder")]),
    (C, [U("make the table sortable by clicking on the headers")]),
    (R, [U("why is the websocket disconnecting every 30 seconds")]),
    (C, [U("write an integration test for the checkout flow")]),
    (C, [U("thanks!")]),
    (C, [U("add a /health route"), T("edit", "src/server/routes.ts"), T("bash", "bun test", "4 pass\n0 fail")]),
    (R, [U("add zod validation to the API"), T("edit", "src/api/schema.ts"), T("bash", "bun test", "error: expect(received).toEqual(expected)\n1 fail", True)]),
    (R, [U("the app renders a blank page in Safari only")]),
    (C, [U("hook up the newsletter form to the Mailchimp API")]),
    (R, [U("compare SQLite and Postgres for the local-first sync engine, which fits better?")]),
    (C, [U("bump the node version in .nvmrc and the CI config")]),
    (R, [U("there's a race between the cache invalidation and the write path, I think. can you dig in?")]),
]  # fmt: skip


def oc_background() -> list[tuple[str, str, tuple[str, dict[str, str], dict[str, Any]]]]:
    history: list[Turn] = [
        U("fix the safari blank page"),
        T("read", "src/app.tsx", "..."),
        A("Fixed"),
    ] * 3
    return [
        (Q, "title generator", opencode([U("fix the safari blank page")], "ot1", system=OC_TITLE_SYSTEM)),
        (Q, "title generator", opencode([U("add zod validation to the API")], "ot2", system=OC_TITLE_SYSTEM)),
        (Q, "session summary", opencode([*history, U(OC_SUMMARY_USER)], "ot3")),
        (Q, "explore subagent", opencode([U("find all usages of useAuth")], "ot4", system=CC_EXPLORE_SYSTEM.replace("Claude Code, Anthropic's official CLI for Claude", "opencode"))),
        (Q, "explore subagent", opencode([U("which files define API routes?"), T("grep", "router\\.", "src/server/routes.ts")], "ot5", system=CC_EXPLORE_SYSTEM.replace("Claude Code, Anthropic's official CLI for Claude", "opencode"))),
    ]  # fmt: skip


CODEX_PRIMARY: list[tuple[str, list[Turn]]] = [
    (R, [U("Plan how to split the monorepo build into cacheable stages")]),
    (C, [U("Implement a `--json` output mode for the status command")]),
    (R, [U("tests in crates/core fail after the tokio upgrade, figure out why")]),
    (C, [U("Refactor the config loader to use serde defaults instead of manual Option handling")]),
    (R, [U("Review the diff on this branch for concurrency bugs")]),
    (C, [U("add a Makefile target for linting")]),
    (C, [U("what does the `sandbox` module do?")]),
    (C, [U("add a retry to the HTTP client"), T("read", "src/http.rs", "..."), T("edit", "src/http.rs"), T("bash", "cargo test", "test result: ok. 42 passed; 0 failed")]),
    (C, [U("port the parser to nom 8"), T("edit", "src/parser.rs"), T("bash", "cargo build", "error[E0308]: mismatched types\n  --> src/parser.rs:41:5", True)]),
    (C, [U("Implement the LRU cache"), T("edit", "src/cache.rs"), T("bash", "cargo test", "test result: ok. 12 passed"), A("Done."), U("looks good, commit it")]),
    (R, [U("why does `tool exec` hang when stdin is closed?")]),
    (C, [U("write docs for the new plugin API in docs/plugins.md")]),
    (C, [U("rename `Ctx` to `Context` across the crate")]),
    (R, [U("the CLI prints garbage characters on Windows terminals")]),
    (C, [U("should I add caching to the resolver?"), A("Yes: an LRU keyed by path would cut repeated lookups."), U("yes do it")]),
    (R, [U("what's the best way to structure the plugin registry so third parties can add commands without recompiling? think through the options")]),
]  # fmt: skip

AIDER: list[tuple[str, list[Turn]]] = [
    (C, [U("add a --verbose option to cli.py")]),
    (R, [U("why does test_parse fail on empty input?")]),
    (C, [U("refactor the Repo class to separate git operations from file IO")]),
    (C, [U("explain how the repo map is built")]),
    (R, [U("review the changes in coder.py for edge cases")]),
    (R, [U("the streaming output gets cut off mid-word sometimes")]),
    (C, [U("implement a --dry-run flag for the commit command")]),
    (R, [U("design a plugin system for custom edit formats; what are the trade-offs?")]),
    (R, [U("make add() accept floats"), A("coder.py\n<<<<<<< SEARCH\ndef add(a: int, b: int)\n=======\ndef add(a: float, b: float)\n>>>>>>> REPLACE"), U("now the test fails: AssertionError: expected 3 got 2")]),
    (C, [U("update the README with the new install steps")]),
]  # fmt: skip

SDK: list[tuple[str, str, tuple[str, dict[str, str], dict[str, Any]]]] = [
    (Q, "short factual question", sdk_openai("What's the difference between a process and a thread? Two sentences.")),
    (Q, "translation", sdk_openai("Translate 'good morning, see you at the standup' to Spanish")),
    (Q, "summary", sdk_openai("Summarize this paragraph in one line: Our Q3 release focused on stability; we closed 140 bugs and shipped the new onboarding flow.")),
    (C, "code generation", sdk_anthropic("Write a Python function that merges two sorted lists in O(n)")),
    (R, "system design", sdk_anthropic("Design a rate limiter for a distributed API gateway at 50k rps; discuss the trade-offs between token bucket and sliding window")),
    (C, "stack trace", sdk_openai("Here is a stack trace:\nTraceback (most recent call last):\n  File \"calc.py\", line 3, in <module>\n    print(total / count)\nZeroDivisionError: division by zero\nWhat's wrong?")),
    (R, "security question", sdk_openai("Is this vulnerable to SQL injection? query = f\"SELECT * FROM users WHERE name = '{name}'\"")),
    (Q, "trivial conversion", sdk_openai("Convert to YAML: {\"name\": \"api\", \"replicas\": 3}")),
    (Q, "naming", sdk_anthropic("list 5 names for a bakery")),
    (Q, "one word", sdk_openai("yes")),
    (R, "virtual model reasoning", sdk_openai("hi", model="reasoning")),
    (Q, "virtual model quick", sdk_openai("Prove that the square root of 2 is irrational", model="quick")),
    (C, "virtual model coding", sdk_anthropic("what is 2+2", model="coding")),
]  # fmt: skip


def header_cases() -> list[tuple[str, str, tuple[str, dict[str, str], dict[str, Any]]]]:
    p1, h1, b1 = sdk_openai("plan the architecture of the new billing system")
    p2, h2, b2 = sdk_openai("update the invoice template footer")
    p3, h3, b3 = claude_code([U("add a tooltip to the save button")], "hd3")
    return [
        (
            C,
            "x-tierline-tier header wins over the content",
            (p1, {**h1, "x-tierline-tier": "coding"}, b1),
        ),
        (
            R,
            "x-tierline-tags billing is a heavy tag",
            (p2, {**h2, "x-tierline-tags": "billing"}, b2),
        ),
        (
            R,
            "x-tierline-tier reasoning on a Claude Code request",
            (p3, {**h3, "x-tierline-tier": "reasoning"}, b3),
        ),
    ]


def huge_cases() -> list[tuple[str, str, tuple[str, dict[str, str], dict[str, Any]]]]:
    blob = "line of build output with some tokens in it 0123456789\n" * 3000  # ~165k chars
    cc_hist: list[Turn] = [U("Wire the importer into the nightly job")]
    cc_hist += [T("read", f"src/importer/part{i}.py", blob) for i in range(4)] + [
        T("edit", "src/jobs/nightly.py")
    ]
    oc_hist: list[Turn] = [U("why does the nightly import crash halfway through?")]
    oc_hist += [T("bash", f"cat logs/import-{i}.log", blob) for i in range(3)]
    cx_hist: list[Turn] = [U("port the remaining handlers to the new router")]
    cx_hist += [T("read", f"src/handlers/h{i}.rs", blob) for i in range(4)] + [
        T("edit", "src/router.rs")
    ]
    summary: list[Turn] = [*cc_hist, A("Done"), U(CC_SUMMARY_USER)]
    return [
        (
            C,
            "~220k-token implementation session: a larger-window coding model",
            claude_code(cc_hist, "huge1"),
        ),
        (R, "~165k-token debugging session", opencode(oc_hist, "huge2")),
        (C, "~220k-token Codex session", codex(cx_hist, "huge3")),
        (Q, "compaction of a huge session", claude_code(summary, "huge4")),
        (
            C,
            "huge session, short follow-up",
            claude_code(
                [*cc_hist, A("Wired."), U("also log how many rows were imported")], "huge5"
            ),
        ),
    ]


# Held out: written after the classifier was tuned on the cases above, and not used to tune it.
HOLDOUT: list[tuple[str, str, list[Turn]]] = [
    ("cc", R, [U("login works locally but on staging every request comes back 401 after about ten minutes")]),
    ("cc", R, [U("can you think about how the notification service should fan out to email, sms and push without blocking the request?")]),
    ("cc", C, [U("add pagination controls under the search results")]),
    ("cc", C, [U("please write the migration guide section for v3 in docs/upgrading.md")]),
    ("cc", R, [U("p95 latency on /search doubled after Tuesday's release")]),
    ("cc", C, [U("swap moment.js for date-fns in the frontend")]),
    ("cc", R, [U("go through the PR and flag anything that could leak PII into the logs")]),
    ("cc", C, [U("ok now hook the new endpoint up to the UI")]),
    ("cc", R, [U("Implement the retry queue"), T("write", "src/queue/retry.py"), T("bash", "pytest tests/queue -x", "E   AssertionError: assert 2 == 3\nFAILED tests/queue/test_retry.py::test_backoff", True)]),
    ("cc", C, [U("Add the metrics exporter"), T("write", "src/metrics/export.go"), T("edit", "src/main.go"), T("bash", "go test ./...", "ok  \\tacme/metrics\\t0.41s")]),
    ("cc", R, [U("the worker pool deadlocks under load, I can reproduce with the stress script")]),
    ("cc", C, [U("make the error messages in the CLI friendlier")]),
    ("oc", R, [U("memory usage climbs until the pod gets OOMKilled, roughly every six hours")]),
    ("oc", C, [U("add a copy-to-clipboard button next to each code block")]),
    ("oc", R, [U("what's the right way to version the public API so mobile clients don't break? lay out a few approaches")]),
    ("oc", C, [U("convert the class components in src/legacy to hooks")]),
    ("oc", C, [U("ok")]),
    ("codex", R, [U("cargo test passes locally but the release build segfaults on arm64")]),
    ("codex", C, [U("add shell completions for zsh and fish")]),
    ("codex", R, [U("audit the unsafe blocks in src/ffi for soundness")]),
    ("codex", C, [U("implement the `export` subcommand"), T("edit", "src/cli/export.rs"), T("bash", "cargo test export", "test result: ok. 5 passed; 0 failed")]),
    ("aider", C, [U("add docstrings to every public function in models.py")]),
    ("aider", R, [U("the totals are wrong when a discount and a coupon apply to the same order")]),
]  # fmt: skip


# Second held-out batch: written before the classifier was tuned on the first held-out batch's
# misses, never used for tuning. It is the honest estimate after that round.
HOLDOUT2: list[tuple[str, str, list[Turn]]] = [
    ("cc", R, [U("checkout requests started returning 502s right after we enabled the CDN")]),
    ("cc", C, [U("add an 'archived' filter to the projects list")]),
    ("cc", R, [U("I need a strategy for zero-downtime schema changes on the orders table, what would you recommend?")]),
    ("cc", C, [U("write a script that backfills the slug column for existing posts")]),
    ("cc", R, [U("our queue consumers fall behind every Monday morning and never catch up")]),
    ("cc", C, [U("replace the hand-rolled arg parsing in bin/sync with argparse")]),
    ("cc", R, [U("check this diff for anything that breaks backwards compatibility for API v1 clients")]),
    ("cc", C, [U("add the new env vars to .env.example and the README")]),
    ("cc", R, [U("Implement soft deletes"), T("edit", "src/models/post.py"), T("bash", "pytest -q", "FAILED tests/test_posts.py::test_list - assert 4 == 3\n1 failed, 57 passed", True)]),
    ("cc", C, [U("Port the settings page to the new design system"), T("read", "src/settings/Page.tsx", "..."), T("edit", "src/settings/Page.tsx"), T("edit", "src/settings/Form.tsx")]),
    ("cc", R, [U("image uploads over 5MB silently fail on iOS")]),
    ("cc", C, [U("sounds good, go ahead with option 2")]),
    ("oc", R, [U("the search results are in a different order every time I reload, even for the same query")]),
    ("oc", C, [U("add keyboard shortcuts for next/previous page")]),
    ("oc", R, [U("evaluate whether we should move the cron jobs to a proper workflow engine, pros and cons please")]),
    ("oc", C, [U("generate fixtures for the new invoice tests")]),
    ("codex", R, [U("cargo build takes 9 minutes on CI but 2 locally, what's different?")]),
    ("codex", C, [U("add a --quiet flag that suppresses progress output")]),
    ("codex", R, [U("look for use-after-free risks in the arena allocator")]),
    ("codex", C, [U("bump clap to 4.5 and update the derive attributes")]),
    ("aider", R, [U("the retry wrapper retries on 400 errors too, which it shouldn't, and I can't see why")]),
    ("aider", C, [U("add type hints to utils/dates.py")]),
    ("aider", R, [U("design how the plugin loader should discover and sandbox third-party edit formats")]),
]  # fmt: skip

# Third held-out batch: written after the classifier was tuned on the first two held-out
# batches' misses, never used for tuning: the honest estimate for the final classifier.
HOLDOUT3: list[tuple[str, str, list[Turn]]] = [
    ("cc", R, [U("notifications arrive hours late for users in Europe but on time in the US")]),
    ("cc", C, [U("add a 'last seen' column to the admin users table")]),
    ("cc", R, [U("how should we split the monolith's database once billing moves out? walk me through the options")]),
    ("cc", C, [U("write a migration note in CHANGELOG.md for the renamed flags")]),
    ("cc", R, [U("the nightly backup job exits 0 but the archive is empty")]),
    ("cc", C, [U("extract the retry logic into a reusable decorator")]),
    ("cc", R, [U("review the new rate limiter for race conditions and bypasses")]),
    ("cc", C, [U("make the CLI print a summary table at the end")]),
    ("cc", R, [U("Add caching to the pricing endpoint"), T("edit", "src/pricing/api.py"), T("bash", "pytest tests/pricing", "E   KeyError: 'currency'\nFAILED tests/pricing/test_api.py::test_cached - KeyError", True)]),
    ("cc", C, [U("yes, and also update the docs")]),
    ("cc", R, [U("after upgrading to node 22 the websocket server drops connections under load")]),
    ("cc", C, [U("hook the feedback form up to the tickets API")]),
    ("oc", R, [U("users say the app logs them out whenever they switch tabs")]),
    ("oc", C, [U("add a loading state to the submit button")]),
    ("oc", R, [U("we're choosing between server-side rendering and a SPA for the new dashboard, help me decide")]),
    ("oc", C, [U("rename the `utils` folder to `lib` and fix the imports")]),
    ("codex", R, [U("the binary is 40MB larger since last week, find out what pulled that in")]),
    ("codex", C, [U("implement `--format json` for the list command")]),
    ("codex", R, [U("audit the FFI boundary for undefined behaviour")]),
    ("codex", C, [U("add unit tests for the config parser edge cases")]),
    ("aider", R, [U("why would the cache return stale entries right after an invalidation?")]),
    ("aider", C, [U("convert the remaining print calls to logging")]),
    ("aider", R, [U("propose an architecture for offline sync with conflict resolution")]),
]  # fmt: skip

HARNESS = {"cc": "claude_code", "oc": "opencode", "codex": "codex", "aider": "aider"}


def split_of(cid: str) -> str:
    """The case's frozen split: ~30% holdout by a stable hash of its id (never by content)."""
    return "holdout" if hashlib.sha256(cid.encode()).digest()[0] < HOLDOUT_BYTE else "tune"


def _case(
    cid: str,
    harness: str,
    label: str,
    note: str,
    req: tuple[str, dict[str, str], dict[str, Any]],
    batch: str = "v1",
) -> dict[str, Any]:
    protocol, headers, body = req
    return {
        "id": cid,
        "batch": batch,
        "split": split_of(cid),
        "harness": harness,
        "label": label,
        "note": note,
        "protocol": protocol,
        "headers": headers,
        "body": body,
    }


def _case_v2(
    cid: str, harness: str, label: str, note: str, req: tuple[str, dict[str, str], dict[str, Any]]
) -> dict[str, Any]:
    return _case(cid, harness, label, note, req, batch="v2")


def build() -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    cc = [
        _case(f"cc-first-{i}", "claude_code", lab, "first turn", claude_code([U(t)], f"ccf{i}"))
        for i, (lab, t) in enumerate(CC_FIRST)
    ]
    cc += [
        _case(
            f"cc-ambiguous-{i}",
            "claude_code",
            lab,
            "no obvious keywords",
            claude_code([U(t)], f"cca{i}"),
        )
        for i, (lab, t) in enumerate(CC_AMBIGUOUS)
    ]
    cc += [
        _case(
            f"cc-followup-{i}",
            "claude_code",
            lab,
            "follow-up with tool results",
            claude_code(h, f"ccu{i}"),
        )
        for i, (lab, h) in enumerate(CC_FOLLOWUPS)
    ]
    cc += [
        _case(f"cc-slash-{i}", "claude_code", lab, "directive", claude_code(h, f"ccs{i}"))
        for i, (lab, h) in enumerate(CC_SLASH)
    ]
    cc += [
        _case(f"cc-background-{i}", "claude_code", lab, note, req)
        for i, (lab, note, req) in enumerate(cc_background())
    ]
    files["claude_code"] = cc
    oc = [
        _case(f"oc-{i}", "opencode", lab, "primary", opencode(h, f"oc{i}"))
        for i, (lab, h) in enumerate(OC_PRIMARY)
    ]
    oc += [
        _case(f"oc-background-{i}", "opencode", lab, note, req)
        for i, (lab, note, req) in enumerate(oc_background())
    ]
    files["opencode"] = oc
    cx = [
        _case(f"codex-{i}", "codex", lab, "primary", codex(h, f"cx{i}"))
        for i, (lab, h) in enumerate(CODEX_PRIMARY)
    ]
    cx.append(
        _case(
            "codex-compact",
            "codex",
            Q,
            "compaction subagent",
            codex([U("implement X"), T("edit", "src/x.rs"), A("done")], "cxc", subagent="compact"),
        )
    )
    cx.append(
        _case(
            "codex-review",
            "codex",
            R,
            "review subagent",
            codex(
                [
                    U(
                        "Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings."
                    )
                ],
                "cxr",
                subagent="review",
            ),
        )
    )
    files["codex"] = cx
    files["aider"] = [
        _case(f"aider-{i}", "aider", lab, "aider chat", aider(h, f"ai{i}"))
        for i, (lab, h) in enumerate(AIDER)
    ]
    files["sdk"] = [
        _case(f"sdk-{i}", "sdk", lab, note, req)
        for i, (lab, note, req) in enumerate(SDK + header_cases())
    ]
    shapes: dict[str, Callable[..., Any]] = {"cc": claude_code, "oc": opencode, "codex": codex}
    files["path_tags"] = [
        _case(f"path-{i}", HARNESS[h], lab, "path tags", shapes[h](turns, f"pt{i}"))
        for i, (h, lab, turns) in enumerate(PATHS)
    ]
    fns: dict[str, Callable[..., Any]] = {
        "cc": claude_code,
        "oc": opencode,
        "codex": codex,
        "aider": aider,
    }
    files["holdout"] = [
        _case(f"holdout-{i}", HARNESS[h], lab, "held out", fns[h](turns, f"ho{i}"))
        for i, (h, lab, turns) in enumerate(HOLDOUT)
    ]
    files["holdout2"] = [
        _case(f"holdout2-{i}", HARNESS[h], lab, "held out (2nd batch)", fns[h](turns, f"hp{i}"))
        for i, (h, lab, turns) in enumerate(HOLDOUT2)
    ]
    files["holdout3"] = [
        _case(f"holdout3-{i}", HARNESS[h], lab, "held out (3rd batch)", fns[h](turns, f"hq{i}"))
        for i, (h, lab, turns) in enumerate(HOLDOUT3)
    ]
    files["huge"] = [
        _case(f"huge-{i}", "mixed", lab, note, req)
        for i, (lab, note, req) in enumerate(huge_cases())
    ]
    files.update(cases_v2.build(_case_v2))
    return files


def main() -> None:
    OUT.mkdir(exist_ok=True)
    total = 0
    for name, cases in build().items():
        lines = [orjson.dumps(c, option=orjson.OPT_SORT_KEYS).decode() for c in cases]
        data = ("\n".join(lines) + "\n").encode()
        if name.endswith("huge"):  # megabytes of repeated tool output: stored compressed
            (OUT / f"{name}.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (OUT / f"{name}.jsonl").write_bytes(data)
        total += len(cases)
    print(f"wrote {total} cases to {OUT}")


if __name__ == "__main__":
    main()
