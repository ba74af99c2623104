# ruff: noqa: E501  (captured tool output is data)
"""Tool output as real tools print it (pytest, jest, bun, cargo, go, tsc, git, kubectl...),
for the second batch of labelled routing cases (cases_v2.py)."""

from __future__ import annotations

PYTEST_FAIL = """============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.3.3, pluggy-1.5.0
rootdir: /home/dev/acme
configfile: pyproject.toml
plugins: asyncio-0.24.0, cov-5.0.0
collected 58 items

tests/test_orders.py ........F.....                                      [ 24%]
tests/test_refunds.py ....................                               [ 58%]
tests/test_users.py ........................                             [100%]

=================================== FAILURES ===================================
_____________________________ test_refund_partial ______________________________

    def test_refund_partial():
        order = make_order(total=100)
>       assert refund(order, 30).remaining == 70
E       assert 100 == 70
E        +  where 100 = Refund(order_id=7, amount=30, remaining=100).remaining

tests/test_orders.py:88: AssertionError
=========================== short test summary info ============================
FAILED tests/test_orders.py::test_refund_partial - assert 100 == 70
========================= 1 failed, 57 passed in 2.31s ========================="""

PYTEST_FAIL_2 = """============================= test session starts ==============================
collected 14 items

tests/test_rate_limit.py ..F...........                                  [100%]

=================================== FAILURES ===================================
__________________________ test_login_locks_after_five __________________________

client = <FlaskClient <Flask 'app'>>

    def test_login_locks_after_five(client):
        for _ in range(5):
            client.post("/login", data={"user": "a", "password": "x"})
        r = client.post("/login", data={"user": "a", "password": "x"})
>       assert r.status_code == 429
E       assert 401 == 429
E        +  where 401 = <WrapperTestResponse streamed [401 UNAUTHORIZED]>.status_code

tests/test_rate_limit.py:31: AssertionError
=========================== short test summary info ============================
FAILED tests/test_rate_limit.py::test_login_locks_after_five - assert 401 == 429
========================= 1 failed, 13 passed in 0.84s ========================="""

PYTEST_PASS = """============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.3.3, pluggy-1.5.0
rootdir: /home/dev/acme
collected 61 items

tests/test_cli.py .........                                              [ 14%]
tests/test_export.py ............................                        [ 60%]
tests/test_users.py ........................                             [100%]

============================== 61 passed in 2.87s =============================="""

JEST_FAIL = """ FAIL  src/cart/__tests__/total.test.ts
  ● cart total › applies the coupon after the discount

    expect(received).toBe(expected) // Object.is equality

    Expected: 8550
    Received: 8500

      22 |     const cart = makeCart([item(10000)], { discount: 0.1, coupon: 500 });
      23 |     const total = computeTotal(cart);
    > 24 |     expect(total).toBe(8550);
         |                   ^
      25 |   });

      at Object.<anonymous> (src/cart/__tests__/total.test.ts:24:19)

Test Suites: 1 failed, 11 passed, 12 total
Tests:       1 failed, 96 passed, 97 total
Snapshots:   0 total
Time:        4.112 s
Ran all test suites."""

BUN_FAIL = """bun test v1.1.30 (7996d06b)

src/api/notes.test.ts:
✓ notes > creates a note [3.12ms]
✗ notes > merges concurrent edits [5.40ms]

error: expect(received).toEqual(expected)

  {
-   "body": "hello world",
+   "body": "hello",
  }

      at /home/dev/notes/src/api/notes.test.ts:41:28

 11 pass
 1 fail
 38 expect() calls
Ran 12 tests across 3 files. [212.00ms]"""

BUN_PASS = """bun test v1.1.30 (7996d06b)

 12 pass
 0 fail
 41 expect() calls
Ran 12 tests across 3 files. [198.00ms]"""

TSC_ERRORS = """src/components/OrderTable.tsx:41:17 - error TS2322: Type 'string | undefined' is not assignable to type 'string'.
  Type 'undefined' is not assignable to type 'string'.

41       <Cell value={order.note} />
                   ~~~~~

src/components/OrderTable.tsx:58:9 - error TS2339: Property 'totalCents' does not exist on type 'Order'.

58   order.totalCents
           ~~~~~~~~~~


Found 2 errors in the same file, starting at: src/components/OrderTable.tsx:41"""

ESLINT = """/home/dev/web/src/pages/Settings.tsx
  12:10  warning  'useMemo' is defined but never used                    @typescript-eslint/no-unused-vars
  48:5   warning  React Hook useEffect has a missing dependency: 'load'  react-hooks/exhaustive-deps

/home/dev/web/src/lib/format.ts
  3:7  warning  'DAY' is assigned a value but never used  @typescript-eslint/no-unused-vars

✖ 3 problems (0 errors, 3 warnings)"""

CARGO_TEST_FAIL = """   Compiling acme-cache v0.3.1 (/home/dev/acme-cache)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 3.91s
     Running unittests src/lib.rs (target/debug/deps/acme_cache-4f1c2a9d1e0b7c55)

running 13 tests
test lru::tests::evicts_oldest ... FAILED
test lru::tests::get_refreshes ... ok
test lru::tests::insert_over_capacity ... ok

failures:

---- lru::tests::evicts_oldest stdout ----
thread 'lru::tests::evicts_oldest' panicked at src/lru.rs:118:9:
assertion `left == right` failed
  left: Some(1)
 right: None
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

failures:
    lru::tests::evicts_oldest

test result: FAILED. 12 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

error: test failed, to rerun pass `--lib`"""

CARGO_TEST_PASS = """    Finished `test` profile [unoptimized + debuginfo] target(s) in 2.10s
     Running unittests src/lib.rs (target/debug/deps/acme_cache-4f1c2a9d1e0b7c55)

running 14 tests
..............
test result: ok. 14 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.02s"""

CARGO_E0425 = """   Compiling acme-cli v0.9.0 (/home/dev/acme-cli)
error[E0425]: cannot find value `opts` in this scope
  --> src/commands/list.rs:27:24
   |
27 |     let rows = fetch(&opts.filter)?;
   |                       ^^^^ not found in this scope

error: could not compile `acme-cli` (bin "acme") due to 1 previous error"""

CLIPPY = """warning: this `if` has identical blocks
  --> src/config.rs:44:12
   |
44 |         } else {
   |            ^
   = help: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#if_same_then_else
warning: redundant clone
  --> src/main.rs:19:31
   |
19 |     let name = args.name.clone();
   |                               ^^^^^^^^ help: remove this
warning: `acme-cli` (bin "acme") generated 2 warnings"""

GO_RACE = """==================
WARNING: DATA RACE
Write at 0x00c0001a2010 by goroutine 9:
  acme/metrics.(*Exporter).Record()
      /home/dev/acme/metrics/export.go:61 +0x84

Previous read at 0x00c0001a2010 by goroutine 8:
  acme/metrics.(*Exporter).Run()
      /home/dev/acme/metrics/export.go:44 +0x1d0
==================
--- FAIL: TestExporterFlush (0.03s)
    testing.go:1398: race detected during execution of test
FAIL
FAIL	acme/metrics	0.412s
FAIL"""

GO_PASS = """ok  	acme/metrics	0.214s
ok  	acme/server	0.530s
?   	acme/cmd/acme	[no test files]"""

GIT_STATUS = """On branch feature/export-since
Your branch is up to date with 'origin/feature/export-since'.

Changes not staged for commit:
  (use "git add <file>..." to update what will be committed)
  (use "git restore <file>..." to discard changes in working directory)
	modified:   src/acme/cli.py
	modified:   src/acme/export.py
	modified:   tests/test_export.py

no changes added to commit (use "git add" and/or "git commit -a")"""

GIT_DIFF = """diff --git a/src/jobs/worker.py b/src/jobs/worker.py
index 3b1e2f0..9c4d7aa 100644
--- a/src/jobs/worker.py
+++ b/src/jobs/worker.py
@@ -31,12 +31,19 @@ class Worker:
     def poll(self) -> Job | None:
-        row = self.db.fetch_one("SELECT * FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1")
+        row = self.db.fetch_one(
+            "SELECT * FROM jobs WHERE state = 'queued' ORDER BY priority DESC, id LIMIT 1"
+        )
         if row is None:
             return None
-        self.db.execute("UPDATE jobs SET state = 'running' WHERE id = %s", (row.id,))
+        self.db.execute(
+            "UPDATE jobs SET state = 'running', worker = %s WHERE id = %s", (self.name, row.id)
+        )
         return Job.from_row(row)
@@ -70,6 +77,11 @@ class Worker:
+    def retry(self, job: Job) -> None:
+        if job.attempts >= self.max_attempts:
+            self.db.execute("UPDATE jobs SET state = 'dead' WHERE id = %s", (job.id,))
+            return
+        self.db.execute("UPDATE jobs SET state = 'queued', attempts = attempts + 1 WHERE id = %s", (job.id,))"""

GIT_LOG = """a41c9e2 (HEAD -> feature/export-since) wip
7d02b11 Add --since to export
f3e8a90 (origin/main, main) Bump ruff to 0.7"""

KUBECTL_OOM = """NAME                         READY   STATUS      RESTARTS        AGE
api-7c9f5d6b8-2kx4q          1/1     Running     0               3d
worker-5b8d9c7f4-9zt6m       0/1     OOMKilled   14 (6h ago)     3d
worker-5b8d9c7f4-qq2lw       1/1     Running     13 (41m ago)    3d"""

MIGRATION_ERROR = """INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.
INFO  [alembic.runtime.migration] Will assume transactional DDL.
INFO  [alembic.runtime.migration] Running upgrade 3f2a1c0d9e8b -> 7b1e4d2c6a90, split name into first and last
Traceback (most recent call last):
  File "/home/dev/acme/.venv/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context
    self.dialect.do_execute(
sqlalchemy.exc.ProgrammingError: (psycopg.errors.UndefinedColumn) column "full_name" does not exist
[SQL: UPDATE users SET first_name = split_part(full_name, ' ', 1)]"""

PROD_LOG = """2026-11-20T14:02:11.481Z ERROR [api] GET /api/orders 500 (38 ms) req=9f1c2
TypeError: Cannot read properties of undefined (reading 'id')
    at serializeOrder (/app/dist/orders/serialize.js:14:31)
    at Array.map (<anonymous>)
    at listOrders (/app/dist/orders/routes.js:52:27)
2026-11-20T14:02:12.006Z INFO  [api] GET /api/orders 200 (41 ms) req=9f1c3"""

NAME_ERROR = """Traceback (most recent call last):
  File "/home/dev/acme/scripts/report.py", line 42, in <module>
    main()
  File "/home/dev/acme/scripts/report.py", line 37, in main
    print(json.dumps(summary, indent=2))
          ^^^^
NameError: name 'json' is not defined. Did you forget to import 'json'?"""

VITE_LOG = """  VITE v5.4.10  ready in 412 ms

  ➜  Local:   http://localhost:5173/
  ➜  Network: use --host to expose
[vite] hmr update /src/App.tsx
[vite] page reload src/main.tsx"""

PS_RSS = """  PID USER      %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND
 4121 dev        3.1 18.4 2911840 1512044 ?     Sl   09:12   4:51 ./target/release/acmed --config acmed.toml"""

DOCKER_FAIL = """============================= test session starts ==============================
collected 212 items

tests/test_paths.py ..F                                                  [  1%]

=================================== FAILURES ===================================
__________________________ test_config_path_default ____________________________
>       assert default_config_path() == Path.home() / ".config" / "acme" / "config.toml"
E       AssertionError: assert PosixPath('/.config/acme/config.toml') == PosixPath('/root/.config/acme/config.toml')
FAILED tests/test_paths.py::test_config_path_default - AssertionError
======================== 1 failed, 211 passed in 9.02s ========================="""

GREP_FILES = """Found 4 files
/home/dev/acme/src/acme/config.py
/home/dev/acme/src/acme/cli.py
/home/dev/acme/src/acme/settings/loader.py
/home/dev/acme/tests/test_config.py"""

GLOB_FILES = """/home/dev/acme/scripts/backfill.py
/home/dev/acme/scripts/report.py
/home/dev/acme/scripts/rotate_keys.sh
/home/dev/acme/scripts/seed_dev_db.py"""

RG_OUT = """src/webhooks/deliver.py:18:def deliver(event: Event) -> None:
src/webhooks/deliver.py:44:    queue.enqueue(deliver, event, retry=Retry(max=5))
src/webhooks/routes.py:61:    deliver(event)
src/jobs/sweeper.py:12:from webhooks.deliver import deliver"""

GIT_COMMIT = """[feature/export-since 1a2b3c4] Add --since to the export command
 3 files changed, 88 insertions(+), 4 deletions(-)"""

PLAYWRIGHT_FLAKY = """Running 48 tests using 4 workers

  ✘  17 [chromium] › checkout.spec.ts:42:7 › checkout › pays with a saved card (retry #1) (30.0s)
  ✓  17 [chromium] › checkout.spec.ts:42:7 › checkout › pays with a saved card (retry #2) (4.1s)

  1 flaky
    [chromium] › checkout.spec.ts:42:7 › checkout › pays with a saved card
  47 passed (1.4m)"""

CPROFILE = """         2841519 function calls (2790233 primitive calls) in 9.412 seconds

   Ordered by: cumulative time

   ncalls  tottime  percall  cumtime  percall filename:lineno(function)
        1    0.004    0.004    9.412    9.412 report.py:1(<module>)
      412    0.021    0.000    8.903    0.022 query.py:88(fetch_customer)
      412    8.512    0.021    8.512    0.021 {method 'execute' of 'psycopg.Cursor' objects}
    50211    0.208    0.000    0.311    0.000 format.py:12(money)"""

CARGO_HANG = """    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.21s
     Running tests/integration.rs (target/debug/deps/integration-9a1b2c3d4e5f6071)

running 6 tests
test reconnects_after_drop ... ok
test streams_large_body ... ok
test shutdown_waits_for_inflight has been running for over 60 seconds"""

FLAKE8 = """# Fix any errors below, if possible.

## Running: /home/dev/.venv/bin/python -m flake8 --select=E9,F821,F823,F831,F406,F407,F701,F702,F704,F706 --show-source --isolated cli.py

cli.py:48:16: F821 undefined name 'argparse'
    parser = argparse.ArgumentParser(prog="acme")
               ^

## See relevant line below marked with █.

cli.py:
...⋮...
 45│def main(argv=None):
 46│    parser = argparse.ArgumentParser(prog="acme")
 47█    parser.add_argument("--limit", type=int)"""
