"""The import graph (function-level imports included) has no cycle and follows the documented
layers of docs/architecture.md: a domain's core imports only the platform and the cores of the
domains below it; adapters (views, schemas, jobs, CLI, webhooks) sit on top of the cores, and
only the application layer imports them across domains."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: the domains, lowest first: a domain's core may import the cores of the domains before it
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "platform",
        (
            "service.config",
            "service.db",
            "service.extensions",
            "service.errors",
            "service.fields",
            "service.guards",
            "service.csp",
            "service.limits",
            "service.queues",
            "service.jobs",
            "service.bus",
        ),
    ),
    ("auth", ("service.auth",)),
    ("http", ("service.api",)),
    ("timeline", ("service.timeline",)),
    ("monitors", ("service.monitors",)),
    ("incidents", ("service.incidents",)),
    ("oncall", ("service.oncall",)),
    ("detection", ("service.detection",)),
    ("paging", ("service.paging",)),
    ("playbooks", ("service.playbooks",)),
    ("statements", ("service.statements",)),
    ("postmortem", ("service.postmortem",)),
    ("web", ("service.web",)),
    ("respond", ("service.respond",)),
    (
        "app",
        (
            "service",
            "service.app",
            "service.cli",
            "service.cli_entry",
            "service.registry",
            "service.reconcile",
            "service.health",
            "service.metrics",
            "service.models",
            "workers",
        ),
    ),
)
#: modules that adapt a domain to the outside (HTTP, RQ, the command line, SMS commands)
ADAPTERS = ("views", "schemas", "webhooks", "jobs", "cli", "validate_cli", "replies")


def modules() -> dict[str, Path]:
    """Every module of service/ and workers/ by dotted name."""
    found = {}
    for path in [*ROOT.glob("service/**/*.py"), *ROOT.glob("workers/**/*.py")]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, package: str, mods: dict[str, Path]) -> list[str]:
    """The dotted names an import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
    return subs or [base]


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports, anywhere in its body."""
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _imported(node, package, mods):
                resolved = (
                    resolve(target) if target.split(".")[0] in ("service", "workers") else None
                )
                if resolved and resolved != name:
                    graph[name].add(resolved)
    return graph


def layer_of(module: str) -> tuple[int, str]:
    """(rank, domain) of a module: the longest matching prefix in LAYERS."""
    best = (-1, "", "")
    for rank, (domain, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best[2]):
                best = (rank, domain, prefix)
    assert best[0] >= 0, f"{module} is in no layer of docs/architecture.md"
    return best[0], best[1]


def is_adapter(module: str) -> bool:
    """Whether a module adapts its domain to the outside (service.<domain>.<adapter>)."""
    parts = module.split(".")
    return len(parts) == 3 and parts[0] == "service" and parts[2] in ADAPTERS


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or not."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or not."""
    reach = {module: reachable(graph, module) for module in graph}
    groups = {
        tuple(sorted(m for m in reach[v] if v in reach.get(m, ()))) for v in graph if v in reach[v]
    }
    return sorted(list(group) for group in groups)


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every edge against the documented order."""
    app_rank = len(LAYERS) - 1
    bad = []
    for source, targets in sorted(graph.items()):
        s_rank, s_domain = layer_of(source)
        for target in sorted(targets):
            t_rank, t_domain = layer_of(target)
            if s_rank == app_rank:
                continue  # the application layer assembles everything
            if t_rank == app_rank:
                bad.append(f"{source} -> {target}: only the application layer imports it")
            elif (
                is_adapter(target)
                and not target.endswith(".schemas")
                and not (is_adapter(source) and s_domain == t_domain)
            ):
                bad.append(f"{source} -> {target}: an adapter is imported by its own adapters")
            elif is_adapter(source):
                continue  # an adapter may use the platform, HTTP, any domain's core and schemas
            elif target.endswith(".schemas"):
                bad.append(f"{source} -> {target}: a core does not import API schemas")
            elif t_domain == "http":
                bad.append(f"{source} -> {target}: a core does not import the HTTP layer")
            elif t_rank > s_rank:
                bad.append(f"{source} -> {target}: {s_domain} is below {t_domain}")
    return bad


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_imports_follow_the_documented_layers() -> None:
    assert violations(import_graph()) == []


def test_every_module_is_in_a_documented_layer() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for domain, _prefixes in LAYERS:
        assert f"`{domain}`" in doc, f"docs/architecture.md does not name the layer {domain}"
    for module in modules():
        layer_of(module)


def test_the_checks_catch_a_cycle_and_an_upward_edge() -> None:
    graph = {
        "service.incidents.service": {"service.paging.service"},  # a core reaching up
        "service.paging.service": {"service.incidents.service"},
        "service.timeline.service": {"service.incidents.views"},  # a core using an adapter
    }
    assert cycles(graph) == [["service.incidents.service", "service.paging.service"]]
    assert violations(graph) == [
        "service.incidents.service -> service.paging.service: incidents is below paging",
        "service.timeline.service -> service.incidents.views: "
        "an adapter is imported by its own adapters",
    ]
