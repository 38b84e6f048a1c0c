"""The documentation site (docs/, mkdocs.yml): it builds strictly, a broken link or a page
outside the nav fails that build, the generated reference pages cover the code, and the
guide has a row for every architecture, encoder, method, kind and dataset `train.py --list`
names."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.helpers import REPO

DOCS = os.path.join(REPO, "docs")
HOOK = os.path.join(DOCS, "hooks", "reference_pages.py")


def _load_hook():
    spec = importlib.util.spec_from_file_location("docs_reference_pages", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference_pages = _load_hook()


def build(config_file, site_dir):
    """`mkdocs build --strict` as `make docs` runs it; returns (exit status, output)."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file),
         "-d", str(site_dir)], cwd=REPO, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def broken_copy(tmp_path, edit):
    """A copy of the site's sources (pages, and mkdocs.yml pointing at them and at the real
    hook) after `edit(docs_dir, config)`; returns the copied mkdocs.yml's path."""
    docs_dir = tmp_path / "docs"
    shutil.copytree(DOCS, docs_dir, ignore=shutil.ignore_patterns("hooks"))
    with open(os.path.join(REPO, "mkdocs.yml")) as f:
        config = yaml.safe_load(f)
    config.update(docs_dir=str(docs_dir), hooks=[HOOK])
    edit(docs_dir, config)
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_site_builds_strictly_with_the_generated_pages(tmp_path):
    status, output = build(os.path.join(REPO, "mkdocs.yml"), tmp_path / "site")
    assert status == 0, output
    for page in reference_pages.PAGES:
        html = (tmp_path / "site" / page.replace(".md", ".html")).read_text()
        assert "Generated" in html, page
    config_html = (tmp_path / "site" / "reference" / "config.html").read_text()
    assert "train.early_stopping_patience" in config_html


def test_broken_links_anchors_and_nav_fail_the_build(tmp_path):
    def edit(docs_dir, config):
        with open(docs_dir / "index.md", "a") as f:
            f.write("\n[gone](guide/no_such_page.md) [anchor](guide/csv.md#no-such-anchor)\n")
        (docs_dir / "orphan.md").write_text("# Not in the nav\n")
        config["nav"].append({"Missing": "no_such_nav_page.md"})

    status, output = build(broken_copy(tmp_path, edit), tmp_path / "site")
    assert status != 0
    for problem in ("no_such_page.md", "#no-such-anchor", "orphan.md", "no_such_nav_page.md"):
        assert problem in output, (problem, output)


def test_a_committed_copy_of_a_generated_page_fails_the_build(tmp_path):
    def edit(docs_dir, config):
        (docs_dir / "reference" / "config.md").write_text("# a stale copy\n")

    status, output = build(broken_copy(tmp_path, edit), tmp_path / "site")
    assert status != 0
    assert "reference/config.md is generated" in output


def test_config_page_has_a_row_for_every_field():
    from training.config import SECTIONS

    page = reference_pages.config_page()
    rows = {line.split("|")[1].strip() for line in page.splitlines() if line.startswith("| `")}
    expected = {f"`{section}.{field}`" for section, cls in SECTIONS.items()
                for field in cls.__dataclass_fields__}
    assert rows == expected


def test_a_field_without_a_doc_still_gets_a_row():
    import dataclasses
    from typing import Optional

    @dataclasses.dataclass
    class Extra:
        """`extra:` a section made up for this test."""

        count: int = dataclasses.field(default=3, metadata={"minimum": 1})
        mode: Optional[str] = dataclasses.field(
            default=None, metadata={"choices": ("a", "b"), "doc": "which <mode>"})

    page = reference_pages.config_page({"extra": Extra})
    assert "| `extra.count` | integer | `3` | >= 1 | (no description yet" in page
    assert "| `extra.mode` | string or null | `null` | `a`, `b` | which &lt;mode&gt; |" in page


def test_scripts_page_is_each_scripts_own_help():
    page = reference_pages.scripts_page()
    for command, path in reference_pages.SCRIPTS.items():
        assert f"## `{command}`" in page
        assert reference_pages.script_help(path).splitlines()[0] in page
    assert "--export_base EXPORT_BASE" in page and "--rest_api_max_body_bytes" in page


def test_a_script_that_runs_instead_of_printing_help_is_an_error(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text("def main(argv=None):\n    return 0\n")
    with pytest.raises(RuntimeError, match="returned instead of printing its flags"):
        reference_pages.script_help(str(script))


def table_names(page):
    """The names in the first column of a page's tables (`| `name` | ...`)."""
    with open(os.path.join(DOCS, page)) as f:
        return set(re.findall(r"^\| `([a-z0-9_]+)` \|", f.read(), flags=re.M))


# `train.py --list` line key -> the guide page whose tables must name each of its names.
LISTED_ON = {"model.architecture": "guide/architectures.md",
             "model.encoder": "guide/architectures.md", "train.weighting": "guide/weighting.md",
             "kind": "guide/tasks.md", "data.name": "guide/datasets.md"}


@pytest.fixture(scope="module")
def selectable_names():
    """{page: names} from `train.py --list` in a fresh process, so names that tests register
    (a made-up task kind, say) are not asked of the docs."""
    result = subprocess.run([sys.executable, "train.py", "--list"], cwd=REPO, capture_output=True,
                            text=True, timeout=300, check=True)
    names = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^.*? \(([\w.]+)\):\s*(.*)$", line)
        if match and match.group(1) in LISTED_ON:
            page = LISTED_ON[match.group(1)]
            names.setdefault(page, set()).update(n.strip() for n in match.group(2).split(","))
    assert set(names) == set(LISTED_ON.values()), result.stdout
    return names


@pytest.mark.parametrize("page", sorted(set(LISTED_ON.values())))
def test_guide_has_a_row_for_every_selectable_name(page, selectable_names):
    missing = selectable_names[page] - table_names(page)
    assert not missing, f"docs/{page} has no table row for {sorted(missing)}"


def test_readme_is_short_and_its_links_resolve():
    with open(os.path.join(REPO, "README.md"), "rb") as f:
        text = f.read().decode()
    assert len(text.encode()) <= 20_000, "README.md over 20 KB: move the detail into docs/"
    targets = re.findall(r"\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)", text)
    assert targets
    missing = [t for t in targets if not os.path.exists(os.path.join(REPO, t))]
    assert not missing
