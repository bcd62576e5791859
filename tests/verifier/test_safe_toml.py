"""safe_toml: the bounded TOML reader every TOML file goes through (issue 12).

A dotted key or table header of n parts costs ``tomllib`` O(n²) memory (a
40 KB key took 1.6 GB): the bounds must refuse such text in linear time,
before ``tomllib`` sees it, while every real file parses exactly as before.
"""

from __future__ import annotations

import os
import time
import tomllib
import tracemalloc
from pathlib import Path

import pytest

from errors import InputTooLarge
from verifier import safe_toml

ROOT = Path(__file__).resolve().parents[2]
KEY = ".".join(["a"] * 100_000)  # 200 KB

HOSTILE = {
    "dotted key": KEY + " = 1\n",
    "table header": "[" + KEY + "]\n",
    "array-of-tables header": "[[" + KEY + "]]\n",
    "dotted key in an inline table": "x = {" + KEY + " = 1}\n",
    "nested inline tables": "x = " + "{a=" * 60_000 + "1" + "}" * 60_000 + "\n",
    "nested arrays": "x = " + "[" * 100_000 + "1" + "]" * 100_000 + "\n",
    "parts and nesting together": "[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p]\nq.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F = [[1]]\n",
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_hostile_toml_is_refused_fast_and_small(shape):
    text = HOSTILE[shape]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises((safe_toml.TOMLDecodeError, InputTooLarge)) as caught:
            safe_toml.loads(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 5_000_000
    if isinstance(caught.value, safe_toml.TOMLDecodeError):
        assert "(at line" in str(caught.value)
        assert "dotted parts" in str(caught.value) or "nested too deeply" in str(caught.value)


def test_keys_and_nesting_at_the_limits_still_parse():
    key = ".".join(f"k{i}" for i in range(safe_toml.MAX_KEY_PARTS))
    assert safe_toml.loads(key + " = 1\n")
    assert safe_toml.loads(f"[{key}]\nv = 1\n")
    with pytest.raises(safe_toml.TOMLDecodeError, match="dotted parts"):
        safe_toml.loads(key + ".more = 1\n")
    depth = safe_toml.MAX_DEPTH - 1  # the key "x" is one level
    assert safe_toml.loads("x = " + "[" * depth + "1" + "]" * depth + "\n")
    with pytest.raises(safe_toml.TOMLDecodeError, match="nested too deeply"):
        safe_toml.loads("x = " + "[" * (depth + 1) + "1" + "]" * (depth + 1) + "\n")


def test_dots_and_brackets_in_strings_and_comments_do_not_count():
    noise = ".".join(["a"] * 100) + "[[[[{{{{"
    text = (f'x = "{noise}"\ny = \'{noise}\'\nz = """\n{noise}\n"""\nw = \'\'\'{noise}\'\'\'\n# {noise}\n'
            f'"{noise}" = 1\nv = 1.5\nt = 07:32:00.999\n[table]\n"a.b".c = [1.5, [2.5], {{d.e = 3}}]\n')
    assert safe_toml.loads(text) == tomllib.loads(text)


def test_every_shipped_and_test_toml_file_parses_as_tomllib_parses_it():
    files = [*ROOT.glob("templates/**/*.toml"), *ROOT.glob("tests/**/*.toml")]
    assert files
    for path in files:
        text = path.read_text("utf-8")
        assert safe_toml.loads(text) == tomllib.loads(text), path


def test_an_unterminated_string_is_scanned_in_linear_time():
    for text in ('x = "' + KEY + "\n", 'x = """' + KEY, "x = '''" + KEY, 'x = "\\' + KEY):
        started = time.perf_counter()
        with pytest.raises(safe_toml.TOMLDecodeError):
            safe_toml.loads(text)
        assert time.perf_counter() - started < 1.0


def test_text_over_the_size_limit_is_input_too_large():
    with pytest.raises(InputTooLarge):
        safe_toml.loads("#" * (safe_toml.MAX_BYTES + 1))


def test_read_limited_refuses_a_fifo_without_waiting(tmp_path):
    fifo = tmp_path / "settings.toml"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        safe_toml.read_limited(fifo)


def test_read_limited_refuses_more_than_the_limit(tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * 101)
    assert safe_toml.read_limited(path, 101) == b"#" * 101
    with pytest.raises(InputTooLarge, match="big.toml is larger than 100 bytes"):
        safe_toml.read_limited(path, 100)
