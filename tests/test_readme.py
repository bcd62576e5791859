"""The README's examples run: its Python block, and every command it names exists."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def test_readme_python_example_runs(tmp_path):
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Verified: Storytime")


def test_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README


def _five_minutes_block() -> list[tuple[str, list[str]]]:
    """The quick start's console block as (command, the output lines shown under it)."""
    section = README.split("## For an issuing division: five minutes", 1)[1]
    block = re.search(r"```console\n(.*?)```", section, re.S).group(1)
    steps: list[tuple[str, list[str]]] = []
    lines = iter(block.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
            steps.append((command, []))
        else:
            steps[-1][1].append(line)
    return steps


def _same_shape(text: str, home: Path) -> str:
    """Output with what differs between runs (ids, keys, folders, times) replaced by placeholders."""
    text = text.replace(str(home), "/home/ce/lla-youth-services")
    text = re.sub(r"/home/ce/lla-youth-services/out/|…/out/", "OUT/", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"-[0-9a-f]{8}(?=[.-])", "-SHORT", text)
    text = re.sub(r"did:key:z\w+", "DID", text)
    return re.sub(r"\d{8}T\d{6}Z(-\d+)?", "TIME", text)


def test_readme_five_minutes_runs_as_written(tmp_path, monkeypatch):
    """A newcomer copying the quick start in the project folder gets what it shows (ids and times aside)."""
    import shlex

    from click.testing import CliRunner

    from cli import main

    home = tmp_path / "lla-youth-services"
    monkeypatch.chdir(ROOT)  # the quick start names files under templates/, as run in the project folder
    monkeypatch.setenv("BADGESMITH_HOME", str(home))
    jane = None
    steps = _five_minutes_block()
    assert [c.split()[1] for c in (s[0] for s in steps) if c.startswith("badgesmith")] == [
        "init", "achievement", "issue", "issue", "revoke", "report"]
    for command, shown in steps:
        if command.startswith("export "):
            continue
        args = shlex.split(command, comments=True)[1:]
        if ">" in args:  # the report goes to a file in the README
            args = args[:args.index(">")]
        if jane:
            args = [jane if a == "urn:uuid:10d2f300-a23e-44e5-b675-30b3728e7e34" else a for a in args]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        if jane is None and "Jane Doe" in result.stdout:
            jane = re.search(r"urn:uuid:[0-9a-f-]{36}", result.stdout).group(0)
        if shown:
            assert _same_shape(result.stdout, home).splitlines() == _same_shape("\n".join(shown), home).splitlines()
    assert jane is not None


def test_readme_pathway_example_adds_as_written(tmp_path, monkeypatch):
    """The pathways section's two commands add the example pathway to a new instance (globs as a shell expands them)."""
    import glob
    import shlex

    from click.testing import CliRunner

    from cli import main

    section = README.split("### Pathways: stackable certificates", 1)[1]
    commands = re.search(r"```sh\n(.*?)```", section, re.S).group(1).splitlines()
    monkeypatch.chdir(ROOT)
    home = ["--home", str(tmp_path / "division")]
    init = ["init", "--name", "Youth Services", "--url", "https://youth.example", "--email", "ce@youth.example"]
    assert CliRunner().invoke(main, [*home, *init]).exit_code == 0
    for command in commands:
        args = [path for word in shlex.split(command)[1:] for path in (sorted(glob.glob(word)) or [word])]
        result = CliRunner().invoke(main, [*home, *args], catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
    assert "Added pathway youth-services: Youth Services Certificate" in result.stdout


def _command_mentions(text: str):
    """Every `badgesmith …` the README shows: console/sh block lines and inline code spans."""
    for block in re.findall(r"```(?:console|sh)\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            for part in re.split(r"&&|\|", line.removeprefix("$ ").split(" #")[0]):
                part = re.sub(r"^(\w+=\S+ )+", "", part.strip())  # VAR=value badgesmith …
                if part.startswith("badgesmith "):
                    yield part
    for span in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S)):
        if (span := " ".join(span.split())).startswith("badgesmith "):
            yield span


def _mention_problems(mention: str) -> list[str]:
    import click

    from cli import main

    words = [w for w in re.split(r"[\s\[\]()|…]+", mention) if w][1:]
    command, path, i = main, [], 0
    while i < len(words):
        if words[i] in ("--home", "--db"):
            i += 2
        elif words[i] in ("--json", "--debug"):
            i += 1
        elif isinstance(command, click.Group) and words[i] in command.commands:
            command = command.commands[words[i]]
            path.append(words[i])
            i += 1
        else:
            break
    if isinstance(command, click.Group) and i < len(words) and words[i].islower() and not words[i].startswith("-"):
        return [f"no command {' '.join([*path, words[i]])!r} in `{mention}`"]
    known = {o for p in command.params + main.params for o in p.opts + p.secondary_opts} | {"--help", "-h", "--version"}
    return [f"{' '.join(path)} has no option {m.group(1)} (`{mention}`)" for w in words[i:]
            if (m := re.match(r"^(--?[a-z][a-z0-9-]*)", w)) and m.group(1) not in known]


def test_every_command_and_option_the_readme_names_exists():
    mentions = list(_command_mentions(README))
    assert len(mentions) > 100  # the parser still finds them
    assert _mention_problems("badgesmith issue X --bogus") and _mention_problems("badgesmith keys rotat")
    assert [p for m in mentions for p in _mention_problems(m)] == []


def test_readme_association_pathway_example_adds_as_written(tmp_path, monkeypatch):
    """The association pathways section's example is the file it names, and its two commands add it in an
    association whose three divisions publish the achievements it requires."""
    import shlex

    from click.testing import CliRunner

    from cli import main
    from tests.issuer.association.three_divisions import build_association

    section = README.split("### Association pathways", 1)[1]
    shown = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    assert shown == (ROOT / "templates" / "association" / "leadership.toml").read_text("utf-8")
    commands = re.search(r"```sh\n(.*?)```", section, re.S).group(1).splitlines()
    built = build_association(tmp_path)
    built.close()
    monkeypatch.chdir(ROOT)
    for command in commands:
        args = shlex.split(command)[1:]
        assert args[:2] == ["--home", "lla"]
        result = CliRunner().invoke(main, ["--home", str(tmp_path / "association"), *args[2:]],
                                    catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
    assert "Added the association pathway 'leadership' (Leadership Certificate)" in result.stdout
