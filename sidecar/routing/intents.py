"""The heuristic classifier's signals: weighted phrase patterns per profile (data).

Each signal is a regex over the lower-cased message (or the original text for
case-sensitive ones) and the lead words one of which a match must start with;
``classifier`` runs a signal only when a word of the message starts with one of
its leads, so most of the table never runs for a given message (``sigtable``).
"""

from __future__ import annotations

from sidecar.routing.sigtable import Sig
from sidecar.routing.sigtable import paste as _paste
from sidecar.routing.sigtable import phrase as _p
from sidecar.routing.sigtable import words as _w

# (profile, weight, patterns): each matching pattern adds ``weight``.
SIGNALS: tuple[tuple[str, float, tuple[Sig, ...]], ...] = (
    (
        "debugger",
        2.0,
        (
            _w(r"debug\w*", r"diagnos\w*", r"investigat\w*", r"troubleshoot\w*", r"root[- ]cause"),
            _paste(_w(r"traceback", r"stack ?trace", r"exception")),
            _w(r"panic(?:ked|s)?\b", "segfault"),
            _w(r"crash\w*", r"hangs?\b", "hanging", r"freez\w*", r"deadlock\w*", "race condition"),
            _w(
                "memory leak",
                r"flak(?:y|ie\w*|ily)",  # not flake8
                r"regress\w*",
                "used to work",
                r"worked (?:before|yesterday)",
            ),
            _w(
                r"bug\b",
                r"broken\b",
                r"fail(?:s|ing|ed|ure)?\b",
                "not working",
                r"does ?n[o']t work",
            ),
            _w(
                r"stopped working", r"since (?:the|yesterday)", r"after (?:the|yesterday'?s) deploy"
            ),
            _paste(
                _p(
                    r"\b[A-Z][a-zA-Z]+(?:Error|Exception)\b",
                    raw=True,
                    leads=("?error", "?exception"),
                )
            ),
            _p(
                r"\bwhy (?:is|does|do|did|are|would|am)\b[^?.]{0,80}"
                r"\b(fail|crash|return|break|slow|hang|wrong|empty|null|nil|zero|differ|show)"
            ),
            _p(r"\b(getting|get|got|throws?|raises?) an? (?:\w+ )?(error|exception|500|404)"),
            _w(r"off[- ]by[- ]one", r"wrong (?:result|output|value|total|answer)s?", "incorrect"),
            _w(r"unexpected\w*", r"(?:don'?t|doesn'?t|do not|does not) (?:add up|match|line up)"),
            _w(r"(?:don'?t|doesn'?t|do not|does not) (?:show up|load|save|fire|persist)"),
            _w(r"intermittent\w*", r"sporadic\w*", "randomly", r"sometimes (?:it|the)"),
            _w(r"keeps? (?:failing|returning|crashing|showing|timing)", "every other"),
            _w(
                r"timeout\b",
                "timed out",
                r"oom\b",
                "out of memory",
                r"5\d\d errors?",
                r"http 5\d\d",
            ),
        ),
    ),
    (
        "debugger",
        2.0,  # symptoms described without the word "bug"
        (
            _p(r"^\s*why (?:is|are|does|do|did|would|won'?t|can'?t|isn'?t|doesn'?t)\b"),
            _w(r"figure out why", r"find out why", r"dig (?:in|into)", r"what'?s causing"),
            _w(r"drops", "loses", "skips", "swallows", "truncates", "mangles", "corrupts", "twice"),
            _w(r"(?:gets?|got|is|are) (?:cut off|truncated|lost|dropped|duplicated|corrupted)"),
            _w(r"(?:prints?|shows?|renders?|returns?|outputs?) (?:garbage|gibberish|garbled)"),
            _w(r"(?:renders?|shows?|returns?) (?:a )?(?:blank|empty|nothing|null|undefined|nan)"),
            _w(r"still (?:shows?|returns?|has|see|gets?)", "even after", r"stopped \w+ing"),
            _w(
                r"used to (?:take|be|work|run|load|pass)",
                r"(?:is|are|got|seems?) (?:so |too )?slow",
            ),
            _w(r"something'?s (?:off|wrong|weird|broken|up)", r"(?:is|are|a few \w+|slightly) off"),
            _w(r"time(?:s|d)? out", "timeout", r"disconnect\w*", "race", "sometimes", "randomly"),
            _w(r"only (?:on|in|for|with) \w+", r"for some (?:people|users|customers|accounts)"),
            _w(r"(?:isn'?t|aren'?t|won'?t|wasn'?t|is not|are not) (?:\w+ing|working)"),
        ),
    ),
    (
        "debugger",
        2.0,  # production symptoms: status codes, regressions, environments that differ
        (
            _w(
                r"(?:returning|getting|gets?|giving|throws?|comes? back(?: with)?) "
                r"(?:an? )?[45]\d\d"
            ),  # fmt: skip
            _p(r"\b[45]\d\ds\b|\b[45]\d\d (?:errors?|responses?)\b", leads=("",)),
            _w(
                r"works? (?:locally|on my machine|in dev|fine locally) but",
                r"(?:on ci|locally) but",
            ),
            _w(r"started (?:returning|failing|throwing|timing|showing|happening|crashing)"),
            _w("right after", "ever since", r"what'?s different", "every time", "different order"),
            _w("latency", r"p9[59]", "doubled", "tripled", r"spike[sd]?", r"climb(?:s|ing)"),
            _w(r"oom(?:killed)?", r"memory (?:usage )?(?:climbs|grows|keeps)", "keeps growing"),
            _w(
                r"(?:is|are|was|were) wrong",
                "wrong when",
                r"shouldn'?t",
                r"can'?t (?:see|tell) why",
            ),
            _w(r"never catch(?:es)? up", r"fall(?:s|ing)? behind", r"silently \w+"),
        ),
    ),
    (
        "debugger",
        2.0,  # symptoms told as a story: when it happens, since when, for whom, despite what
        (
            _w(
                r"whenever (?:i|we|they|you|a|an|the|it|someone|users?)",
                r"every (?:few|couple of|other|now and then) ?(?:\w+ )?(?:days|hours|minutes|runs)",
                r"every so often",
                "once in a while",
                "from time to time",
            ),  # fmt: skip
            _w(r"(?:stops|stalls|dies|vanish(?:es)?)"),
            _w(r"nothing in the logs?", r"no errors? in the logs?", r"exits? (?:0|cleanly) but"),
            _w(
                r"(?:got|gets|getting|became|feels?) (?:a lot |much |way |noticeably |really )?"
                r"slower",
                r"(?:larger|bigger|heavier|slower) since",
            ),  # fmt: skip
            _w(
                r"since last (?:week|night|month|release|deploy|friday|monday|sprint)",
                r"since (?:we|i) (?:turned|switched|upgraded|enabled|added|moved|deployed|merged)",
            ),
            _w(
                r"after (?:the|our|this|yesterday'?s|today'?s)(?: last| latest| recent)? "
                r"(?:deploy\w*|release|upgrade|update|migration)",
                r"after (?:upgrading|updating|bumping)",
            ),  # fmt: skip
            _w(r"someone else'?s", r"(?:users|customers|people) (?:say|report|complain|saw|see)"),
            _w(
                r"(?:hours|minutes|days) late",
                r"on time (?:in|for|on)",
                r"but (?:the|its?) \w+ "
                r"(?:is|are|was|were) (?:empty|blank|missing|wrong|stale)",
            ),  # fmt: skip
            _w(
                r"flicker\w*",
                r"logs? (?:them|me|us|users|everyone) out",
                r"half-?(?:updated|written)",
            ),
            _w(r"under (?:heavy )?load", r"even though", r"find out (?:what|where|how|who)"),
            _w(
                r"still (?:comes? out|came out|prints?|gives?|ends? up)",
                r"i (?:expected|was expecting)",
                r"expected \S+ but (?:got|it)",
            ),
            _w(  # the human reports that the last attempt did not fix it
                r"same (?:thing|error|problem|issue|result|failure)",
                r"(?:didn'?t|doesn'?t|did not|does not) (?:help|fix (?:it|anything))",
                r"(?:didn'?t|doesn'?t|did not|does not) change anything",
                r"no (?:luck|change|difference)",
                r"still (?:the same|happening|there|broken)",
                r"not fixed",
            ),
        ),
    ),
    (
        "planner",
        2.0,  # design questions without the word "design": how you'd do it, where it should live
        (
            _w(
                r"what(?:'s| is| would be) the (?:best|cleanest|safest|simplest|right|proper) "
                r"(?:way|approach|place)",
            ),  # fmt: skip
            _w(
                r"how (?:you'?d|you would|would you|we'?d|would we) (?:go about|approach|add|build)"
            ),
            _w(r"lay (?:out|it out)", r"walk me through (?:how|the options)"),
            _w(
                r"before (?:writing|touching|changing) (?:any )?code",
                r"don'?t (?:write|change) code",
            ),
            _w(r"think (?:it|this|that) through", r"think (?:hard|carefully) about"),
            _w(r"where should (?:\w+ ){0,2}(?:live|go|be stored|belong)"),
            _w(r"how should (?:the|a|an|our|this|it|they) \w+", r"roll(?:ing)? (?:it )?out"),
            _w(r"without (?:breaking|downtime|logging \w+ out|losing|duplicating)"),
            _w(r"two (?:devices|users|clients|workers|processes|tabs) (?:\w+ing|at once)"),
            _w(r"permissions? (?:service|model|system)", r"authori[sz]ation", "authz", "rbac"),
        ),
    ),
    (
        "reviewer",
        1.8,  # review intent without the word "review"
        (
            _w(r"push back on", r"what (?:would|do) you (?:change|object to)"),
            _w(r"what (?:i|we) changed", r"(?:is|are) (?:\w+ )?still (?:correct|valid|safe|right)"),
        ),
    ),
    (
        "assistant",
        3.5,  # one-shot transformations any small model does (no floor for SDK clients)
        (
            _p(
                r"^\s*(?:convert|translate|reformat)\b[^.\n]{0,40}\b(?:to|into) (?:yaml|json|"
                r"toml|xml|csv|markdown|english|french|german|spanish|italian|japanese|chinese)\b"
            ),  # fmt: skip
            _w(r"(?:classify|label|rate) the (?:sentiment|tone|language)", r"sentiment of"),
            _p(r"^\s*summari[sz]e (?:the following|this|these)\b"),
            _w(r"(?:write|generate|suggest) (?:a |an )?(?:one-line |short )?commit message"),
        ),
    ),
    (
        "reviewer",
        1.8,
        (
            _w(r"review\w*", r"audit\w*", "critique", r"scrutini[sz]e", "look over"),
            _w("second pair of eyes", r"sanity[- ]check", "what could go wrong"),
            _w(r"security (?:review|audit|issues?|holes?|problems?|concerns?)", r"vulnerab\w*"),
            _w("owasp", "xss", "sql injection", "csrf", "ssrf", r"cve-\d+"),
            _p(
                r"\bis (?:this|it|that)\b[^?.]{0,40}\b(?:correct|safe|right|ok|okay|secure|sound)\b"
            ),
            _p(r"\b(?:check|scan|go through)\b[^.?]{0,40}\b(?:bugs|issues|problems|mistakes)"),
            _w(r"(?:any|spot) (?:issues|problems|concerns|bugs|red flags)"),
            _w(r"before (?:i|we) merge", "pull request", "this pr", "the pr", "the diff"),
            _w("use-after-free", "memory safety", "soundness", r"backwards? compat\w*"),
            _w(
                r"breaking changes?",
                r"look (?:for|out for) (?:\w+ )?(?:risks|issues|bugs|problems)",
            ),
            _w(r"check (?:this|the|my) (?:diff|pr|change|changes|patch|branch)"),
            _w(
                r"(?:take a )?(?:look|glance) (?:at|over) (?:my|the|these|this|our) "
                r"(?:changes|diff|code|pr|patch|branch|commits?)"
            ),
        ),
    ),
    (
        "refactorer",
        1.7,
        (
            _w(r"refactor\w*", r"restructur\w*", r"clean(?:ing)? ?up", r"simplif\w*", r"tidy\w*"),
            _w(r"decoupl\w*", r"moderni[sz]\w*", r"dry\b", r"dedup\w*", r"duplicat\w*"),
            _p(
                r"\b(extract|inline|rename|split|move|consolidate|pull out|break up)\b[^.?]{0,40}"
                r"\b(function|method|class|module|file|component|helper|variable|into|out of|to)\b"
            ),
            _w("repeated code", r"copy[- ]?pasted?", r"readab\w*", r"maintainab\w*"),
            _w(r"without changing (?:the )?behaviou?r", r"same behaviou?r", "across the codebase"),
        ),
    ),
    (
        "planner",
        1.5,
        (
            _w(
                r"plan\b",
                "planning",
                r"architect\w*",
                r"strateg\w*",
                "roadmap",
                r"approach(?:es)?\b",
            ),
            _w(r"design (?:a|the|an|for|doc)\b", "system design", r"trade-?offs?", "pros and cons"),
            _w("alternatives", r"compare (?:the )?(?:options|approaches)", r"versus\b"),
            _w(r"how should (?:we|i)", r"should (?:we|i)\b", r"what(?:'s| is) the best way"),
            _w(
                r"where (?:do|should) (?:we|i) start",
                r"requirements\b(?!\.)",
                r"specification\b",
                "rfc",
            ),
            _w(
                r"adr\b",
                r"proposal\b",
                r"propose\b",
                "think through",
                r"long[- ]term",
                "going forward",
            ),
            _w(r"migrat\w+ (?:plan|strategy|path)", "upgrade path", r"scal(?:e|ability|ing)\b"),
            _w(r"multi-?tenan\w*", r"decide\b", r"decision\b", r"evaluate\b", "is it worth"),
            _w("what would it take", r"how would you (?:approach|structure|organi[sz]e|design)"),
            _w("think about how", r"how (?:the|a|our) \w+ should", r"(?:would you )?recommend\w*"),
            _w(r"where (?:would|do|should|can) (?:you|we|i) (?:even )?(?:begin|start)"),
            _w(
                r"giv(?:e|ing) up",
                "commit to",
                r"which (?:one )?(?:fits|is|works) better",
                "compare",
            ),
            _w(r"best way to (?:structure|organi[sz]e|design|architect|model)", "the options"),
            _p(r"^\s*(?:plan|design|architect|propose|outline)\b"),
            _w(r"step[- ]by[- ]step", r"break (?:this|it) down", r"phases?\b", r"milestones?\b"),
        ),
    ),
    (
        "coder",
        1.3,
        (
            _w("implement", "build", "create", "write", "add", "make", "generate", "scaffold"),
            _w("wire up", "hook up", r"support\b"),
            _w(r"commit\b", r"rebase\b", r"merge\b", r"push\b", "open a pr", "cherry-pick"),
        ),
    ),
    (
        "coder",
        0.6,  # nouns and verbs of change: present in bug reports and plans too
        (
            _w(
                "endpoint", "function", "method", "class", "component", "handler", "route", "tests?"
            ),
            _w("cli", "flag", "option", "field", "column", "page", "form", "button", "script"),
            _w("module", "api", "feature", "config"),
            _w("update", "modify", "change", "rewrite", "convert", "port"),
            _w("fix", "bump", "install", "upgrade", "replace"),
        ),
    ),
    (
        "assistant",
        0.8,
        (
            _p(r"^\s*(what|where|which|who|when)(?:'s| is| are| does| do| did)\b"),
            _w("show me", r"list\b", r"find\b", r"grep\b", "search for", "look up", r"locate\b"),
            _w("where is", "which file", r"explain\b", r"summari[sz]\w*", r"describe\b"),
            _w(r"tl;?dr", r"overview\b", "what does"),
            _p(
                r"^\s*(yes|no|ok(?:ay)?|thanks?|thank you|sure|go ahead|continue|lgtm|sounds good|"
                r"great|perfect|nice|cool|do it|proceed|y|n)\b[.! ]*$"
            ),
            _w(r"quick(?:ly)?\b", r"brief(?:ly)?\b", "just tell me", r"one[- ]liner", r"status\b"),
            _w(r"how many\b", r"count\b"),
        ),
    ),
)

FLAT: tuple[tuple[str, float, Sig], ...] = tuple(
    (profile, weight, sig) for profile, weight, sigs in SIGNALS for sig in sigs
)
