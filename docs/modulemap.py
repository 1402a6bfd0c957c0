"""The module map of docs/architecture.md: each module under crawler/ with the first sentence of its docstring (`python3 docs/modulemap.py --write` puts them under "Module map")."""
import ast, pathlib, re, sys
root = pathlib.Path(__file__).resolve().parent.parent / "crawler"
order = ["settings.py", "settingsdoc.py", "core", "sites", "seeds.py", "diff", "extraction", "net", "archive", "warc", "state",
         "browser", "exports", "items.py", "signals.py", "featureoff.py", "resolver.py", "logformatter.py", "spiders", "downloadermiddlewares",
         "downloadhandlers", "pipelines", "extensions", "distributed", "commands"]
def first(path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = " ".join(doc.strip().split("\n\n")[0].split())
    m = re.match(r"(.+?\.)(\s|$)", text)
    s = (m.group(1) if m else text).rstrip(".")
    return s.replace("|", "\\|")
rows = []
for name in order:
    p = root / name
    if p.is_file():
        rows.append((f"crawler/{name}", first(p)))
        continue
    init = p / "__init__.py"
    rows.append((f"crawler/{name}/", first(init) if init.exists() and first(init) else ""))
    for f in sorted(p.rglob("*.py")):
        if f.name == "__init__.py":
            if f.parent != p:
                rows.append((f.parent.relative_to(root.parent).as_posix() + "/", first(f)))
            continue
        rows.append((f.relative_to(root.parent).as_posix(), first(f)))
table = "".join(f"| `{path}` | {job} |\n" for path, job in rows)
if sys.argv[1:] == ["--write"]:  # the rows put in place under "Module map"
    page = root.parent / "docs" / "architecture.md"
    text = page.read_text(encoding="utf-8")
    head, rest = text.split("| module | one job |\n|---|---|\n", 1)
    tail = rest[rest.find("\n\n") + 1:] if "\n\n" in rest else ""
    page.write_text(head + "| module | one job |\n|---|---|\n" + table + tail, encoding="utf-8")
else:
    sys.stdout.write(table)
